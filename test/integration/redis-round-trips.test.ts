// Each store operation is one Redis round trip (a turn append, a read, an append that returns the
// state); renewing every lease of a replica is one pipelined round trip on a single server. Counted at
// the socket (test/support/round-trips.mjs). A whole turn's critical path (final transcript → first
// frame) is counted in turn-critical-path.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countRoundTrips, type RoundTripCounter } from '../support/round-trips.mjs';
import { makeRedisBundle, type StateBundle } from '../support/state-subjects.js';
import { testConfig, testRedisUrl } from '../support/test-env.js';
import { RedisConversationStore } from '../../src/adapters/redis/redis-conversation-store.js';

describe('redis round trips', () => {
  let bundle: { impl: StateBundle; cleanup: () => Promise<void> };
  let rt: RoundTripCounter;
  let store: RedisConversationStore;
  const measure = async (fn: () => Promise<unknown>) => {
    const before = rt.count;
    await fn();
    return rt.count - before;
  };

  beforeEach(async () => {
    bundle = await makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl() }));
    const redis = bundle.impl.redis!;
    rt = countRoundTrips(redis.client);
    store = new RedisConversationStore({ scripts: redis.wired.scripts, keys: redis.wired.keys }, { ttl: bundle.impl.config.ttl, historyMaxTurns: 50 });
    // Load the scripts once (EVALSHA misses the first time on a fresh server).
    await store.appendTurn('warm', { seq: 1, speaker: 'user', text: 'hi', at: 1 });
    await store.getState('warm');
    await store.updateContext('warm', { a: 1 });
    await bundle.impl.affinity.renewAll([await bundle.impl.affinity.acquire('warm', 'w')]);
  });
  afterEach(async () => {
    await bundle.cleanup();
  });

  it('appendTurn, getState and updateContext take one round trip each', async () => {
    for (let seq = 1; seq <= 5; seq++) {
      expect(await measure(() => store.appendTurn('c1', { seq, speaker: 'user', text: `t${seq}`, at: seq }))).toBe(1);
    }
    expect(await measure(() => store.appendTurn('c1', { seq: 3, speaker: 'user', text: 't3', at: 3 }))).toBe(1);
    expect(await measure(() => store.updateContext('c1', { slot: 'x', gone: null }))).toBe(1);
    let state: Awaited<ReturnType<typeof store.getState>> | null = null;
    expect(await measure(async () => (state = await store.getState('c1')))).toBe(1);
    expect(state!.history).toHaveLength(5);
    let read: Awaited<ReturnType<typeof store.appendTurnAndRead>> | null = null;
    expect(await measure(async () => (read = await store.appendTurnAndRead('c1', { seq: 6, speaker: 'user', text: 't6', at: 6 })))).toBe(1);
    expect(read!.state.history).toHaveLength(6);
    expect(read!.state.context).toEqual({ slot: 'x' });
  });

  it('the resilient store adds no round trips while Redis is up', async () => {
    const conv = bundle.impl.conversations;
    expect(await measure(() => conv.appendTurn('c2', { seq: 1, speaker: 'user', text: 'x', at: 1 }))).toBe(1);
    expect(await measure(() => conv.getState('c2'))).toBe(1);
    expect(await measure(() => conv.appendTurnAndRead('c2', { seq: 2, speaker: 'user', text: 'y', at: 2 }))).toBe(1);
  });

  it('renewAll renews 100 leases in one round trip', async () => {
    const { affinity } = bundle.impl;
    const leases = await Promise.all(Array.from({ length: 100 }, (_, i) => affinity.acquire(`l-${i}`, 'w-1')));
    let lost: string[] = ['not renewed'];
    expect(await measure(async () => (lost = (await affinity.renewAll(leases)).lost))).toBe(1);
    expect(lost).toEqual([]);
  });
});
