// A replica that boots while Redis is unreachable subscribes its event channel once Redis is back:
// a callback another replica forwards to it afterwards is delivered (not held forever).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForReady, type RedisClient } from '../../src/adapters/redis/redis-client.js';
import { createRedisClient } from '../../src/wiring/clients.js';
import { createRedisState, type RedisState } from '../../src/wiring/redis-wiring.js';
import type { CallbackEnvelope } from '../../src/domain/ports.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';
import { eventually } from '../support/e2e.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { removeKeys, testConfig } from '../support/test-env.js';

const clock = { now: () => Date.now(), monotonic: () => performance.now() };

describe('event router of a replica that booted during a Redis outage', () => {
  let server: PrivateRedis;
  const clients: RedisClient[] = [];
  const states: RedisState[] = [];
  let appName = '';

  function replica(workerId: string): RedisState {
    const config = testConfig({ STATE_BACKEND: 'redis', REDIS_URL: server.url, APP_NAME: appName, WORKER_ID: workerId });
    const client = createRedisClient(config.state, silentLogger());
    clients.push(client);
    const state = createRedisState({ client, registry: createRegistry({ defaultMetrics: false }), log: silentLogger(), clock }, config);
    states.push(state);
    return state;
  }

  beforeAll(async () => {
    server = await startRedisServer();
    appName = testConfig().appName;
  });

  afterAll(async () => {
    for (const s of states) await s.close(200).catch(() => undefined);
    for (const c of clients) c.disconnect();
    if (server?.running) await removeKeys(server.url, appName);
    await server?.stop();
  });

  it('keeps trying to subscribe and receives forwarded events once Redis returns', async () => {
    await server.stop();
    const owner = replica('w-boot-owner');
    const got: CallbackEnvelope[] = [];
    let started = false;
    const starting = owner.state.router.start((e) => got.push(e)).then(
      () => (started = true),
      () => undefined, // what matters is below: forwarded events reach this replica
    );
    // Long enough for the first SUBSCRIBE to fail (connection refused, one retry per request).
    await new Promise((r) => setTimeout(r, 1500));
    expect(started).toBe(false);

    await server.start();
    await waitForReady(clients[0] as RedisClient, 10_000);
    await starting;
    await owner.workers.beat();

    const other = replica('w-boot-other');
    await waitForReady(clients[1] as RedisClient, 10_000);
    await other.workers.beat();
    await owner.state.affinity.acquire('call-boot', 'w-boot-owner');
    const env: CallbackEnvelope = { callId: 'call-boot', id: 'ev-1', type: 'PlayCompleted', data: { operationContext: 'op' }, time: null };
    expect(await other.state.router.forward(env)).toBe('forwarded');
    expect(await eventually(() => (got.length > 0 ? got : undefined), 5000)).toEqual([env]);
  });

  it('stop() ends a start() that is still waiting for Redis', async () => {
    await server.stop();
    const r = replica('w-boot-stopped');
    const starting = r.state.router.start(() => undefined);
    await new Promise((res) => setTimeout(res, 500));
    await r.state.router.stop();
    await expect(starting).resolves.toBeUndefined();
    await server.start();
  });
});
