// One contract for the console store, run against the Redis adapter (the test's own key prefix on
// the shared test redis-server) and the in-process one: sliding session TTL, live view with its TTL,
// day counters, cache entries and the bus (publish order kept, this replica included).
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConsoleStore } from '../../src/domain/console/console-store.js';
import { RedisConsoleStore } from '../../src/adapters/redis/redis-console-store.js';
import { MemoryConsoleStore } from '../../src/adapters/memory/memory-console-store.js';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { silentLogger } from '../../src/logger.js';
import { removeKeys, testAppName, testRedisUrl } from '../support/test-env.js';
import { keysWithoutTtl } from '../support/ttl-scan.js';

const appName = testAppName();
const clients: Redis[] = [];
afterAll(async () => {
  await removeKeys(testRedisUrl(), appName);
  for (const c of clients) c.disconnect();
});

const subjects: [string, () => Promise<{ store: ConsoleStore; ttlOf: (kind: 'session' | 'live' | 'day' | 'cache', id: string) => Promise<number> }>][] = [
  [
    'redis',
    async () => {
      const client = new Redis(testRedisUrl());
      clients.push(client);
      const keys = new RedisKeys({ appName, appEnv: 'test' });
      const store = new RedisConsoleStore({ client, keys }, silentLogger());
      const ttlOf = async (kind: 'session' | 'live' | 'day' | 'cache', id: string) =>
        client.ttl(kind === 'session' ? keys.operatorSession(id) : kind === 'live' ? keys.consoleLiveCalls() : kind === 'day' ? keys.consoleDay(id) : keys.consoleCache(id));
      return { store, ttlOf };
    },
  ],
  ['memory', async () => ({ store: new MemoryConsoleStore({ clock: { now: () => Date.now(), monotonic: () => performance.now() } }), ttlOf: async () => 1 })],
];

describe.each(subjects)('console store contract (%s)', (name, make) => {
  it('keeps a session by hash, slides its TTL on touch, drops it on logout', async () => {
    const { store, ttlOf } = await make();
    await store.putSession(`h-${name}`, 'operator', 100);
    expect(await store.touchSession(`h-${name}`, 3600)).toBe('operator');
    if (name === 'redis') expect(await ttlOf('session', `h-${name}`)).toBeGreaterThan(3500);
    await store.dropSession(`h-${name}`);
    expect(await store.touchSession(`h-${name}`, 3600)).toBeNull();
    await store.close();
  });

  it('writes, reads and prunes the live view; counts a day; caches; every key has a TTL', async () => {
    const { store, ttlOf } = await make();
    await store.writeLive({ upsert: [[`c1-${name}`, '{"a":1}'], [`c2-${name}`, '{"a":2}']], remove: [], replica: [`w-${name}`, '{"w":1}'] }, 15);
    await store.writeLive({ upsert: [], remove: [`c1-${name}`] }, 15);
    const live = await store.readLive();
    expect(live.calls).toContain('{"a":2}');
    expect(live.calls).not.toContain('{"a":1}');
    expect(live.replicas).toContain('{"w":1}');
    await store.pruneLive([`c2-${name}`], [`w-${name}`]);
    expect((await store.readLive()).calls).not.toContain('{"a":2}');
    await store.recordEnded(`2026-12-0${name.length}`, 7, 'caller-hangup', 1234, 100);
    await store.recordEnded(`2026-12-0${name.length}`, 7, 'failed', 766, 100);
    expect(await store.readDay(`2026-12-0${name.length}`)).toEqual({ calls: 2, 'outcome:caller-hangup': 1, 'outcome:failed': 1, 'hour:7': 2, durationMs: 2000 });
    await store.cacheSet(`v-${name}`, 'body', 30);
    expect(await store.cacheGet(`v-${name}`)).toBe('body');
    await store.cacheDel(`v-${name}`);
    expect(await store.cacheGet(`v-${name}`)).toBeNull();
    if (name === 'redis') {
      await store.writeLive({ upsert: [['c3', '{}']], remove: [] }, 15);
      expect(await ttlOf('live', '')).toBeGreaterThan(0);
      expect(await ttlOf('day', `2026-12-0${name.length}`)).toBeGreaterThan(0);
      expect(await keysWithoutTtl(testRedisUrl(), appName)).toEqual([]);
    }
    await store.close();
  });

  it('fans messages out in publish order, to this replica too', async () => {
    const { store } = await make();
    const { store: other } = await make();
    const got: string[] = [];
    const gotOther: string[] = [];
    await store.subscribe((m) => got.push(m));
    await other.subscribe((m) => gotOther.push(m));
    for (let i = 0; i < 20; i++) await store.publish(`m${i}`);
    const until = Date.now() + 2000;
    while ((got.length < 20 || (name === 'redis' && gotOther.length < 20)) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    if (name === 'redis') expect(gotOther).toEqual(got);
    await store.close();
    await other.close();
  });
});
