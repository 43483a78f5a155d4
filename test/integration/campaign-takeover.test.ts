// Issue 18 item 5: a replica that dies mid-campaign loses nothing. Two CampaignServices ("replicas")
// share real Redis (the campaign lease, campaign-lease-1.lua) and Cosmos (@azure/cosmos against the
// embedded server: the durable campaign document). Replica A creates and starts driving a campaign,
// then stops renewing (its process is gone: no lease renewal, its calls never report back); once the
// lease expires, replica B claims it, re-dials the attempts A left open and completes the campaign
// from the stored state. The dialer is the port's fake (no SDK in it); Redis and Cosmos are real.
import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCampaignContainer } from '../../src/adapters/cosmos/cosmos-containers.js';
import { CosmosCampaignStore } from '../../src/adapters/cosmos/cosmos-campaign-store.js';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { RedisCampaignHot } from '../../src/adapters/redis/redis-campaign-hot.js';
import type { RedisClient } from '../../src/adapters/redis/redis-client.js';
import { RedisScripts } from '../../src/adapters/redis/scripts.js';
import type { CampaignDialer, CampaignSlots } from '../../src/domain/campaign-scheduler.js';
import { silentLogger } from '../../src/logger.js';
import { CampaignService } from '../../src/server/campaign-service.js';
import { createRedisClient } from '../../src/wiring/clients.js';
import { startCosmosServer, type CosmosServer } from '../support/cosmos-server.js';
import { eventually } from '../support/e2e.js';
import { removeKeys, testConfig, testRedisUrl } from '../support/test-env.js';

const LEASE_MS = 600;
const slots: CampaignSlots = { reserveWaiting: async () => ({ admitted: true }), releaseClaim: async () => undefined };

describe('campaign takeover after its replica dies (real Redis lease, real Cosmos state)', () => {
  let cosmos: CosmosServer;
  let client: RedisClient;
  let store: CosmosCampaignStore;
  let hot: RedisCampaignHot;
  let keys: RedisKeys;
  const config = testConfig({ REDIS_URL: testRedisUrl() });

  beforeAll(async () => {
    cosmos = await startCosmosServer();
    const cc = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, agent: cosmos.agent });
    store = new CosmosCampaignStore(await ensureCampaignContainer(cc, `db-${config.appName}`));
    client = createRedisClient(config.state, silentLogger());
    keys = new RedisKeys({ appName: config.appName, appEnv: config.appEnv });
    hot = new RedisCampaignHot({ client, scripts: new RedisScripts(client), keys, ttl: config.ttl });
  });
  afterAll(async () => {
    await removeKeys(testRedisUrl(), config.appName);
    client?.disconnect();
    await cosmos?.close();
  });

  it('replica B resumes the campaign from Cosmos once A stops renewing its lease; every target ends exactly once more', async () => {
    const placedByA: string[] = [];
    // A's calls never come back (the process died with them).
    const deadDialer: CampaignDialer = { place: (req) => (placedByA.push(req.target), new Promise(() => undefined)) };
    const placedByB: string[] = [];
    let n = 0;
    const liveDialer: CampaignDialer = {
      place: async (req, onConnected) => {
        placedByB.push(req.target);
        const callId = `b-call-${n++}`;
        onConnected(callId);
        await new Promise((r) => setTimeout(r, 20));
        return { outcome: 'completed', callId };
      },
    };
    const deps = { store, hot, slots, now: Date.now, log: silentLogger() };
    const a = new CampaignService({ ...deps, dialer: deadDialer }, { workerId: 'replica-a', leaseMs: LEASE_MS });
    const b = new CampaignService({ ...deps, dialer: liveDialer }, { workerId: 'replica-b', leaseMs: LEASE_MS });
    const now = Date.now();
    const targets = Array.from({ length: 6 }, (_, i) => `+1425555020${i}`);
    await a.create({ id: 'camp-takeover', tenant: 'acme', targets, window: { start: now - 1000, end: now + 60_000 }, ratePerMinute: 60_000, concurrency: 2, retries: { max: 0, backoffMs: 0 } });
    await eventually(() => (placedByA.length === 2 ? true : undefined), 3_000);
    expect(await client.get(keys.campaignLease('camp-takeover'))).toBe('replica-a');
    // B looks while A's lease is live: it must not take the campaign.
    await b.tick();
    expect(b.driving).toBe(0);
    // A is gone (never renews). After the lease TTL, B claims it and carries on from Cosmos.
    await new Promise((r) => setTimeout(r, LEASE_MS + 100));
    await b.tick();
    expect(b.driving).toBe(1);
    expect(await client.get(keys.campaignLease('camp-takeover'))).toBe('replica-b');
    const done = await eventually(async () => {
      const c = await store.load('camp-takeover');
      return c?.status === 'completed' ? c : undefined;
    }, 5_000);
    expect(done.targets.every((t) => t.state === 'completed' && t.callId?.startsWith('b-call-'))).toBe(true);
    // The two attempts A left 'dialing' were placed again by B (each counted); the others once.
    expect(placedByB.sort()).toEqual([...targets].sort());
    expect(done.targets.map((t) => t.attempts).sort()).toEqual([1, 1, 1, 1, 2, 2]);
    const status = await b.status('camp-takeover');
    expect(status?.body).toMatchObject({ status: 'completed', counts: { completed: 6, attempts: 8 } });
    // Its lease is released once the campaign is done.
    await eventually(async () => ((await client.get(keys.campaignLease('camp-takeover'))) === null ? true : undefined), 2_000);
    expect(await client.pttl(keys.campaignCounters('camp-takeover'))).toBeGreaterThan(0);
  }, 15_000);
});
