// One contract suite over every state backend: memory, a real Redis, and a real 3-node Redis Cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRoundTrips } from '../support/round-trips.mjs';
import { keysUnder, keysWithoutTtl } from '../support/ttl-scan.js';
import { runWholeCall } from '../support/whole-call.js';
import type { CallbackEnvelope } from '../../src/domain/ports.js';
import { runContract } from '../support/contract.js';
import { startRedisCluster, type PrivateRedisCluster } from '../support/redis-cluster.js';
import { stateContract } from '../support/state-contract.js';
import { makeRedisBundle, memorySubject, redisSubject, type StateBundle } from '../support/state-subjects.js';
import { testConfig, testRedisUrl } from '../support/test-env.js';

let cluster: PrivateRedisCluster | null = null;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

runContract<StateBundle>(
  'state ports',
  [
    memorySubject(),
    redisSubject('redis', () => ({ REDIS_URL: testRedisUrl() })),
    redisSubject('redis cluster (3 nodes)', () => {
      if (!cluster) throw new Error('cluster not started');
      return { REDIS_CLUSTER_NODES: cluster.nodesEnv };
    }),
  ],
  stateContract,
);

describe('redis cluster', () => {
  it('forwards a callback from one worker to the owner over cluster pub/sub', async () => {
    if (!cluster) throw new Error('cluster not started');
    const base = testConfig({ STATE_BACKEND: 'redis', REDIS_CLUSTER_NODES: cluster.nodesEnv });
    const shared = { STATE_BACKEND: 'redis', REDIS_CLUSTER_NODES: cluster.nodesEnv, APP_NAME: base.appName };
    const a = await makeRedisBundle(testConfig({ ...shared, WORKER_ID: 'w-a' }));
    const b = await makeRedisBundle(testConfig({ ...shared, WORKER_ID: 'w-b' }));
    try {
      const got: CallbackEnvelope[] = [];
      await a.impl.router.start((e) => got.push(e));
      await b.impl.router.start(() => undefined);
      await a.impl.affinity.acquire('cl-call', 'w-a');
      const env: CallbackEnvelope = { callId: 'cl-call', id: 'e-1', type: 'CallConnected', data: {}, time: null };
      expect(await b.impl.router.forward(env)).toBe('forwarded');
      for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual([env]);
    } finally {
      await b.cleanup();
      await a.cleanup();
    }
  });

  it('a whole call leaves no key without a TTL on any node', async () => {
    if (!cluster) throw new Error('cluster not started');
    const c = cluster;
    const { impl, cleanup } = await makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_CLUSTER_NODES: c.nodesEnv }));
    try {
      await runWholeCall(impl, 'cluster-ttl-call', async (stage) => {
        const keys = await keysUnder(c.nodes, impl.config.appName);
        expect(keys.length).toBeGreaterThanOrEqual(10);
        if (stage === 'turns') for (const part of [':context', ':history', ':meta']) expect(keys.some((k) => k.endsWith(part))).toBe(true);
        expect(await keysWithoutTtl(c.nodes, impl.config.appName)).toEqual([]);
      });
      expect(await keysWithoutTtl(c.nodes, impl.config.appName)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('renewAll takes one pipelined round trip per node; a turn and a read take one each', async () => {
    if (!cluster) throw new Error('cluster not started');
    const { impl, cleanup } = await makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_CLUSTER_NODES: cluster.nodesEnv }));
    try {
      const { affinity, conversations } = impl;
      const leases = await Promise.all(Array.from({ length: 60 }, (_, i) => affinity.acquire(`rt-${i}`, 'w-1')));
      await affinity.renewAll(leases); // loads the script on every node
      await conversations.appendTurn('warm', { seq: 1, speaker: 'user', text: 'x', at: 1 });
      await conversations.getState('warm');
      const rt = countRoundTrips(impl.redis!.client);
      let before = rt.count;
      expect(await affinity.renewAll(leases)).toEqual({ lost: [], reasserted: [] });
      expect(rt.count - before).toBe(cluster.nodes.length);
      before = rt.count;
      await conversations.appendTurn('c', { seq: 1, speaker: 'user', text: 'x', at: 1 });
      expect(rt.count - before).toBe(1);
      before = rt.count;
      expect((await conversations.getState('c')).turnCount).toBe(1);
      expect(rt.count - before).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
