// One contract suite over every state backend: memory, a real Redis, and a real 3-node Redis Cluster.
import { afterAll, beforeAll } from 'vitest';
import { runContract } from '../support/contract.js';
import { startRedisCluster, type PrivateRedisCluster } from '../support/redis-cluster.js';
import { stateContract } from '../support/state-contract.js';
import { memorySubject, redisSubject, type StateBundle } from '../support/state-subjects.js';
import { testRedisUrl } from '../support/test-env.js';

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
