// Issue 18 on a real 3-node Redis Cluster: a tenant's slots ({tenant id}) and the global ones
// ({global}) hash to different slots, so a reservation is two script runs (tenant, then global +
// rate) and a global refusal undoes the tenant part: caps hold, no tenant slot is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { RedisCallSlots } from '../../src/adapters/redis/redis-call-slots.js';
import { waitForReady, type RedisClient } from '../../src/adapters/redis/redis-client.js';
import { hashSlot } from '../../src/adapters/redis/cluster-slots.js';
import { RedisScripts } from '../../src/adapters/redis/scripts.js';
import { silentLogger } from '../../src/logger.js';
import { createRedisClient } from '../../src/wiring/clients.js';
import { removeClusterKeys, startRedisCluster, type PrivateRedisCluster } from '../support/redis-cluster.js';
import { testConfig } from '../support/test-env.js';

describe('call slots on a 3-node Redis Cluster', () => {
  let cluster: PrivateRedisCluster;
  let client: RedisClient;
  let keys: RedisKeys;
  let slots: RedisCallSlots;
  let appName: string;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const config = testConfig({ REDIS_CLUSTER_NODES: cluster.nodesEnv });
    appName = config.appName;
    client = createRedisClient(config.state, silentLogger());
    await waitForReady(client, 10_000);
    keys = new RedisKeys({ appName: config.appName, appEnv: config.appEnv });
    slots = new RedisCallSlots({ client, scripts: new RedisScripts(client), keys }, { leaseMs: 30_000 });
  }, 30_000);

  afterAll(async () => {
    if (cluster) await removeClusterKeys(cluster.nodes, appName).catch(() => undefined);
    client?.disconnect();
    await cluster?.stop();
  });

  it('keeps the tenant and global caps over 90 concurrent reservations; a global refusal leaves no tenant slot', async () => {
    const tenants = ['ca', 'cb', 'cc'];
    expect(new Set(tenants.map((t) => hashSlot(keys.slots(t))).concat(hashSlot(keys.globalSlots()))).size).toBeGreaterThan(1);
    expect(hashSlot(keys.globalSlots())).toBe(hashSlot(keys.globalRate()));
    const lim = { tenantCap: 5, globalCap: 12, rateLimit: 0, windowMs: 60_000 };
    const results = await Promise.all(Array.from({ length: 90 }, (_, i) => slots.reserve(tenants[i % 3] as string, `r:w:${i}`, lim)));
    expect(results.filter((r) => r.reserved)).toHaveLength(12);
    const perTenant = await Promise.all(tenants.map((t) => client.zcard(keys.slots(t))));
    expect(perTenant.every((n) => n <= 5)).toBe(true);
    // Tenant parts undone on a global refusal: the tenants hold exactly the 12 global slots.
    expect(perTenant.reduce((a, b) => a + b, 0)).toBe(12);
    expect(await client.zcard(keys.globalSlots())).toBe(12);
    // Round trips: 2 when reserved, 1 for a tenant refusal, 3 for a global refusal (the undo).
    for (const r of results) if (!r.reserved) expect(r.roundTrips).toBe(r.refused === 'tenant' ? 1 : 3);
    expect(results.filter((r) => r.reserved).every((r) => r.roundTrips === 2)).toBe(true);

    // Confirm, renew (one call, per node) and release work across the slots too.
    const held = results.map((r, i) => ({ r, i })).filter(({ r }) => r.reserved);
    const first = held[0]?.i as number;
    expect(await slots.confirm(tenants[first % 3] as string, `r:w:${first}`, 'c:w:call-x')).toBe(true);
    expect(await slots.renew([{ tenantId: tenants[first % 3] as string, member: 'c:w:call-x' }])).toBeGreaterThanOrEqual(0);
    expect(await slots.release({ tenantId: tenants[first % 3] as string, member: 'c:w:call-x' })).toBe(2);
    expect(await slots.release({ tenantId: tenants[first % 3] as string, member: 'c:w:call-x' })).toBe(0);
    expect(await client.zcard(keys.globalSlots())).toBe(11);
  });
});
