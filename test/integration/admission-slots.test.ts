// Issue 18, items 1-4, on real Redis: the slot scripts under concurrency, leases of a dead replica,
// the sliding-window rate limit, a Redis outage (the server process stopped) → the replica share,
// (the refused call declined through the simulator: admission-reject.test.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { RedisCallSlots } from '../../src/adapters/redis/redis-call-slots.js';
import type { RedisClient } from '../../src/adapters/redis/redis-client.js';
import { RedisScripts } from '../../src/adapters/redis/scripts.js';
import type { CallSlots, SlotLimits } from '../../src/domain/call-slots.js';
import { tenantResolver } from '../../src/domain/tenants.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';
import { CallAdmission } from '../../src/server/call-admission.js';
import { createRedisClient } from '../../src/wiring/clients.js';
import { eventually } from '../support/e2e.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { testConfig } from '../support/test-env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const limits = (o: Partial<SlotLimits> = {}): SlotLimits => ({ tenantCap: 10, globalCap: 0, rateLimit: 0, windowMs: 60_000, ...o });

describe('call slots on one redis-server', () => {
  let redis: PrivateRedis;
  let client: RedisClient;
  let keys: RedisKeys;
  let scripts: RedisScripts;
  const slotsWith = (leaseMs: number) => new RedisCallSlots({ client, scripts, keys }, { leaseMs });

  beforeAll(async () => {
    redis = await startRedisServer();
    await redis.start();
    const config = testConfig({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '200' });
    client = createRedisClient(config.state, silentLogger());
    keys = new RedisKeys({ appName: config.appName, appEnv: config.appEnv });
    scripts = new RedisScripts(client);
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('300 concurrent reservations from 4 "replicas" never pass a tenant cap of 10 or a global cap of 25', async () => {
    const replicas = [slotsWith(30_000), slotsWith(30_000), slotsWith(30_000), slotsWith(30_000)];
    // A hot tenant (60 % of the calls) fills its cap first; the four others then fill the global cap.
    const tenants = ['hot', 't1', 't2', 't3', 't4'];
    const tenantOf = (i: number) => (i % 10 < 6 ? 'hot' : (tenants[1 + (i % 4)] as string));
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => (replicas[i % 4] as CallSlots).reserve(tenantOf(i), `r:w${i % 4}:${i}`, limits({ globalCap: 25 }))),
    );
    const reserved = results.filter((r) => r.reserved).length;
    expect(reserved).toBe(25);
    for (const t of tenants) expect(await client.zcard(keys.slots(t))).toBeLessThanOrEqual(10);
    expect(await client.zcard(keys.slots('hot'))).toBe(10);
    expect(await client.zcard(keys.globalSlots())).toBe(25);
    const refused = results.filter((r) => !r.reserved).map((r) => (r.reserved ? '' : r.refused));
    expect(new Set(refused)).toEqual(new Set(['tenant', 'global']));
    // One round trip per decision on a single Redis.
    expect(results.every((r) => r.roundTrips === 1)).toBe(true);
    // Every key the slots wrote carries a TTL.
    for (const k of [...tenants.map((t) => keys.slots(t)), keys.globalSlots()]) expect(await client.pttl(k)).toBeGreaterThan(0);
  });

  it('releases exactly once: a second release (finalize after an answer failure, a duplicate hook) removes nothing', async () => {
    const slots = slotsWith(30_000);
    let releases = 0;
    const counting: CallSlots = { ...slots, reserve: slots.reserve.bind(slots), confirm: slots.confirm.bind(slots), renew: slots.renew.bind(slots), release: async (s) => { releases++; return slots.release(s); } };
    const admission = new CallAdmission(
      { slots: counting, tenants: tenantResolver({ tenants: [{ id: 'once', maxConcurrent: 2, numbers: ['+18005550111'] }], defaultTenant: { id: 'd', maxConcurrent: 1 } }), liveReplicas: () => 1, registry: createRegistry({ defaultMetrics: false }), now: Date.now, log: silentLogger() },
      { workerId: 'w1', globalMaxConcurrent: 0, maxCallsPerWindow: 0, rateWindowMs: 60_000, leaseMs: 30_000 },
    );
    expect((await admission.reserve('claim-1', '4:+18005550111')).admitted).toBe(true);
    admission.confirm('claim-1', 'call-1');
    const members = await eventually(async () => {
      const m = await client.zrange(keys.slots('once'), 0, -1);
      return m[0]?.startsWith('c:') ? m : undefined;
    });
    expect(members).toEqual(['c:w1:call-1']);
    await Promise.all([admission.releaseCall('call-1'), admission.releaseCall('call-1'), admission.releaseClaim('claim-1')]);
    expect(releases).toBe(1);
    expect(await client.zcard(keys.slots('once'))).toBe(0);
    expect(await slots.release({ tenantId: 'once', member: 'c:w1:call-1' })).toBe(0);
    expect(admission.held).toBe(0);
  });

  it("a dead replica's slots come back once their lease runs out; a live replica's renewed leases do not", async () => {
    const tenant = `lease-${randomUUID().slice(0, 6)}`;
    const dead = slotsWith(400);
    const live = slotsWith(400);
    expect((await dead.reserve(tenant, 'r:dead:1', limits({ tenantCap: 2 }))).reserved).toBe(true);
    expect((await live.reserve(tenant, 'r:live:1', limits({ tenantCap: 2 }))).reserved).toBe(true);
    expect((await live.reserve(tenant, 'r:live:2', limits({ tenantCap: 2 }))).reserved).toBe(false);
    // The live replica renews (one batched call for all it holds); the dead one does not.
    for (let i = 0; i < 4; i++) {
      await sleep(150);
      await live.renew([{ tenantId: tenant, member: 'r:live:1' }]);
    }
    const again = await live.reserve(tenant, 'r:live:2', limits({ tenantCap: 2 }));
    expect(again.reserved).toBe(true);
    expect(await client.zrange(keys.slots(tenant), 0, -1)).toEqual(expect.arrayContaining(['r:live:1', 'r:live:2']));
    expect(await client.zscore(keys.slots(tenant), 'r:dead:1')).toBeNull();
  });

  it("CallAdmission renews every lease this replica holds on its timer: a call longer than the lease keeps its slot", async () => {
    const tenant = `renew-${randomUUID().slice(0, 6)}`;
    const admission = new CallAdmission(
      { slots: slotsWith(300), tenants: tenantResolver({ tenants: [], defaultTenant: { id: tenant, maxConcurrent: 2 } }), liveReplicas: () => 1, registry: createRegistry({ defaultMetrics: false }), now: Date.now, log: silentLogger() },
      { workerId: 'w-renew', globalMaxConcurrent: 0, maxCallsPerWindow: 0, rateWindowMs: 60_000, leaseMs: 300 },
    );
    admission.start();
    try {
      expect((await admission.reserve('k1', null)).admitted).toBe(true);
      admission.confirm('k1', 'long-call');
      expect((await admission.reserve('k2', null)).admitted).toBe(true);
      await sleep(800);
      // Both leases (the confirmed call's and the pending reservation's) outlived 300 ms, renewed.
      const other = slotsWith(300);
      expect((await other.reserve(tenant, 'r:other:1', limits({ tenantCap: 2 }))).reserved).toBe(false);
      expect(await client.zrange(keys.slots(tenant), 0, -1)).toEqual(expect.arrayContaining(['c:w-renew:long-call']));
      admission.stop();
      await sleep(400);
      expect((await other.reserve(tenant, 'r:other:1', limits({ tenantCap: 2 }))).reserved).toBe(true);
    } finally {
      admission.stop();
    }
  });

  it('rate limit: a sliding window across replicas; the refusal says when the next permit frees', async () => {
    await client.del(keys.globalRate(), keys.globalSlots());
    const a = slotsWith(30_000);
    const b = slotsWith(30_000);
    const lim = limits({ tenantCap: 100, rateLimit: 5, windowMs: 600 });
    const first = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).reserve('rate', `r:x:${i}`, lim)));
    expect(first.filter((r) => r.reserved)).toHaveLength(5);
    const refused = first.find((r) => !r.reserved);
    expect(refused && !refused.reserved && refused.refused).toBe('rate');
    expect(refused && !refused.reserved && refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused && !refused.reserved && refused.retryAfterMs).toBeLessThanOrEqual(600);
    // A refused call took no slot.
    expect(await client.zcard(keys.slots('rate'))).toBe(5);
    await sleep(650);
    expect((await a.reserve('rate', 'r:x:later', lim)).reserved).toBe(true);
  });

  it('outbound waits for the next free permit instead of failing (the same window inbound calls use)', async () => {
    await client.del(keys.globalRate(), keys.globalSlots());
    const admission = new CallAdmission(
      { slots: slotsWith(30_000), tenants: tenantResolver({ tenants: [{ id: 'campaigns', maxConcurrent: 100, numbers: [] }], defaultTenant: { id: 'd', maxConcurrent: 100 } }), liveReplicas: () => 1, registry: createRegistry({ defaultMetrics: false }), now: Date.now, log: silentLogger() },
      { workerId: 'w-out', globalMaxConcurrent: 0, maxCallsPerWindow: 3, rateWindowMs: 500, leaseMs: 30_000 },
    );
    // Two inbound calls and one outbound take the window's 3 permits.
    expect((await admission.reserve('in-1', null)).admitted).toBe(true);
    expect((await admission.reserve('in-2', null)).admitted).toBe(true);
    expect((await admission.reserveWaiting('out-1', 'campaigns', { maxWaitMs: 0 })).admitted).toBe(true);
    expect(await admission.reserve('in-3', null)).toMatchObject({ admitted: false, refused: 'rate' });
    const t0 = Date.now();
    const d = await admission.reserveWaiting('out-2', 'campaigns', { maxWaitMs: 2000 });
    expect(d.admitted).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(Date.now() - t0).toBeLessThan(1000);
    // The three permits freed together; two more inbound calls take the rest. Given no time to wait,
    // outbound then fails as inbound does.
    expect((await admission.reserve('in-4', null)).admitted).toBe(true);
    expect((await admission.reserve('in-5', null)).admitted).toBe(true);
    expect(await admission.reserveWaiting('out-3', 'campaigns', { maxWaitMs: 0 })).toMatchObject({ admitted: false, refused: 'rate' });
    for (const c of ['in-1', 'in-2', 'out-1', 'out-2', 'in-4', 'in-5']) await admission.releaseClaim(c);
  });

  it('Redis stopped: admission falls back to floor(cap / live replicas) and counts it', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const admission = new CallAdmission(
      { slots: slotsWith(30_000), tenants: tenantResolver({ tenants: [], defaultTenant: { id: 'share', maxConcurrent: 10 } }), liveReplicas: () => 3, registry, now: Date.now, log: silentLogger() },
      { workerId: 'w1', globalMaxConcurrent: 0, maxCallsPerWindow: 0, rateWindowMs: 60_000, leaseMs: 30_000 },
    );
    // One call admitted through Redis before the outage counts against the share too.
    expect((await admission.reserve('before', null)).admitted).toBe(true);
    await redis.stop();
    const during = [];
    for (let i = 0; i < 6; i++) during.push(await admission.reserve(`c${i}`, null));
    // floor(10 / 3) = 3 on this replica: 1 before the outage + 2 now.
    expect(during.map((d) => d.admitted)).toEqual([true, true, false, false, false, false]);
    expect(during[2]).toMatchObject({ admitted: false, refused: 'tenant' });
    const text = await registry.metrics();
    expect(text).toMatch(/voice_admission_fallback_total\{decision="admitted"\} 2/);
    expect(text).toMatch(/voice_admission_fallback_total\{decision="refused-tenant"\} 4/);
    expect(text).toMatch(/voice_admission_decisions_total\{decision="admitted",path="redis"\} 1/);
    // Released locally while Redis is away: the share frees.
    await admission.releaseClaim('c0');
    expect((await admission.reserve('c6', null)).admitted).toBe(true);
    await redis.start();
  }, 8_000);
});
