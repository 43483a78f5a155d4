// Real faults lose nothing. Each test runs whole calls from the simulator (a local ACS) against
// workers on a private redis-server that the test stops, restarts EMPTY (no persistence, like a
// failover or a flush) or whose lease a second owner takes:
// - Redis restarted empty mid-call: the owner re-asserts the lease and writes back auth state,
//   snapshot and conversation; no callback is refused; every caller turn is archived.
// - Redis down: a callback of a live local call is verified against the in-memory secret (200).
// - A higher fence elsewhere: the old owner hands over (socket closed, media session freed) and a
//   stale owner's append is refused by the script.
// - A call whose media socket moves to another replica continues its conversation: no second
//   greeting, every turn stored.
// Bounded: each call lasts seconds; every wait has a deadline.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConversationStore } from '../../src/adapters/redis/redis-conversation-store.js';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { isVoiceError } from '../../src/domain/errors.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { eventually, workerCallId } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { startBalancer, type TcpBalancer } from '../support/tcp-balancer.js';
import { testAppName, testConfig } from '../support/test-env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('owner re-asserts and hands over (private redis-server)', () => {
  let redis: PrivateRedis;
  let sim: Simulator;
  let probe: Redis;
  const workers: Worker[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator();
    probe = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    probe.on('error', () => undefined);
  });
  afterAll(async () => {
    await sim?.close();
    for (const w of workers) await w.stop('test end').catch(() => undefined);
    probe?.disconnect();
    await redis?.stop();
  });

  async function worker(env: Record<string, string> = {}): Promise<Worker> {
    const port = await freePort();
    const w = await createWorker(
      testConfig({
        ...sim.workerEnv(),
        REDIS_URL: redis.url,
        REDIS_COMMAND_TIMEOUT_MS: '300',
        PORT: String(port),
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        WORKER_ID: `w-${randomUUID().slice(0, 8)}`,
        TTL_LEASE: '3',
        ...env,
      }),
      process.env.FAULT_TEST_LOG ? createLogger({ level: 'info' } as never) : silentLogger(),
      { defaultMetrics: false },
    );
    await w.start();
    workers.push(w);
    return w;
  }

  const urlOf = (w: Worker) => w.config.publicBaseUrl;

  /** Starts one call at `target` and resolves once the worker answered it. */
  async function place(target: string, scenario: string, durationS: number) {
    const before = sim.calls.length;
    const run = sim.runCalls({ target: `${target}/api/incoming-call`, calls: 1, concurrency: 1, scenario, durationS });
    const call = await eventually(() => (sim.calls[before]?.answer ? sim.calls[before] : undefined), 20_000);
    return { call, callId: workerCallId(call), run };
  }

  async function postCallback(baseUrl: string, call: SimCall): Promise<Response> {
    const url = new URL('/api/callbacks', baseUrl);
    url.search = new URL(call.answer?.callbackUri ?? '').search;
    const event = {
      id: randomUUID(),
      source: `calling/callConnections/${call.callConnectionId}`,
      type: 'Microsoft.Communication.ParticipantsUpdated',
      specversion: '1.0',
      datacontenttype: 'application/json',
      time: new Date().toISOString(),
      subject: `calling/callConnections/${call.callConnectionId}`,
      data: { callConnectionId: call.callConnectionId, serverCallId: call.serverCallId, correlationId: call.correlationId, sequenceNumber: 9, participants: [] },
    };
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sim.issueToken()}` },
      body: JSON.stringify([event]),
    });
  }

  it('Redis restarted EMPTY mid-call: the owner re-asserts, no callback is refused, every caller turn is archived', async () => {
    const w = await worker();
    const keys = new RedisKeys(w.config);
    const { call, callId, run } = await place(urlOf(w), 'qa', 4);
    // The first caller turn is stored, then Redis loses everything.
    await eventually(async () => ((await probe.zcard(keys.conversationHistory(callId)).catch(() => 0)) >= 2 ? true : undefined), 20_000);
    await eventually(() => (w.leases.fenceOf(callId) > 0 ? true : undefined), 5_000);
    await redis.stop();
    // Redis is down: a callback of this live call is verified against the secret held in memory.
    const down = await postCallback(urlOf(w), call);
    expect(down.status).toBe(200);
    await sleep(Number(process.env.FAULT_TEST_OUTAGE_MS ?? 2_000));
    await redis.start();
    // Back, empty: the owner took its lease back and wrote back what it holds.
    await eventually(async () => ((await probe.get(keys.callOwner(callId)).catch(() => null))?.endsWith(`:${w.config.workerId}`) ? true : undefined), 10_000);
    await eventually(async () => ((await probe.exists(keys.callAuth(callId), keys.callSession(callId)).catch(() => 0)) === 2 ? true : undefined), 10_000);
    const after = await postCallback(urlOf(w), call);
    expect(after.status).toBe(200);
    const report = await run;
    expect(report.failuresByCause).toEqual({});
    expect(call.callbacks.filter((c) => c.status !== 200)).toEqual([]);
    // The call was finalized here and its transcript archived with all three caller turns.
    const doc = await eventually(async () => (await w.archive.archive.getTranscript(callId)) ?? undefined, 20_000, 200);
    expect(doc.turns.filter((t) => t.speaker === 'user')).toHaveLength(3);
    expect(['caller-hangup', 'agent-hangup']).toContain(doc.outcome);
  });

  it('a higher fence elsewhere: the old owner hands over (socket closed, media session freed), and its stale append is refused', async () => {
    const w = await worker();
    const { call, callId, run } = await place(urlOf(w), 'silence', 6);
    await eventually(() => (w.leases.fenceOf(callId) > 0 && w.media.session(callId) ? true : undefined), 10_000);
    const staleFence = w.leases.fenceOf(callId);
    const sessionsBefore = w.media.sessionCount;
    // Another replica takes the call (as when ACS reconnects the stream there): a higher fence.
    const newer = await w.state.affinity.acquire(callId, 'w-elsewhere');
    expect(newer.fence).toBeGreaterThan(staleFence);
    await w.leases.renewNow();
    expect(w.calls.get(callId)).toBeUndefined();
    expect(w.leases.holds(callId)).toBe(false);
    expect(w.media.session(callId)).toBeUndefined();
    expect(w.media.sessionCount).toBe(sessionsBefore - 1);
    const metrics = await w.registry.metrics();
    expect(metrics).toMatch(new RegExp(`voice_media_sessions\\{[^}]*\\} ${w.media.sessionCount}\\b`));
    expect(metrics).toMatch(/voice_calls_ended_total\{[^}]*outcome="handed-over"[^}]*\} 1/);
    // The socket this replica held is closed; nothing was hung up (the call lives elsewhere).
    await eventually(() => (w.media.server.size === 0 ? true : undefined), 5_000);
    expect(call.hangupRequests).toEqual([]);
    // A write fenced by the old owner's token is refused by the script, not silently accepted.
    const scripts = (await import('../../src/adapters/redis/scripts.js')).RedisScripts;
    const stale = new RedisConversationStore(
      { scripts: new scripts(w.redis!), keys: new RedisKeys(w.config), fenceOf: () => staleFence },
      { ttl: w.config.ttl, historyMaxTurns: 50 },
    );
    const err = await stale.appendTurn(callId, { seq: 99, speaker: 'user', text: 'late', at: Date.now() }).then(() => null, (e: unknown) => e);
    expect(isVoiceError(err, 'STALE_FENCE')).toBe(true);
    const current = new RedisConversationStore({ scripts: new scripts(w.redis!), keys: new RedisKeys(w.config), fenceOf: () => newer.fence }, { ttl: w.config.ttl, historyMaxTurns: 50 });
    expect((await current.appendTurn(callId, { seq: 99, speaker: 'user', text: 'owner', at: Date.now() })).stored).toBe(true);
    await run;
  });

  it('Redis down: a new call is admitted on the local ceiling and answered, never refused with 503', async () => {
    const w = await worker({ MAX_CONCURRENT_CALLS: '5', INCOMING_CALLS_PER_WINDOW: '100' });
    await redis.stop();
    try {
      const { call, run } = await place(urlOf(w), 'silence', 3);
      const report = await run;
      expect(report.failuresByCause).toEqual({});
      expect(call.answers).toBe(1);
      expect(call.callbacks.filter((c) => c.status !== 200)).toEqual([]);
      expect(await w.registry.metrics()).toMatch(/voice_admission_total\{[^}]*result="admitted_local_fallback"[^}]*\} 1/);
    } finally {
      await redis.start();
    }
  });

  describe('a call whose media socket moves to another replica', () => {
    let balancer: TcpBalancer;
    afterAll(async () => {
      await balancer?.close();
    });

    it('continues its conversation on the new owner: no second greeting, no turn lost', async () => {
      balancer = await startBalancer([]);
      const shared = { APP_NAME: testAppName(), PUBLIC_BASE_URL: balancer.url };
      const a = await worker(shared);
      const b = await worker(shared);
      const portOf = (w: Worker) => (w.app.server.address() as { port: number }).port;
      balancer.setTargets([
        { host: '127.0.0.1', port: portOf(a) },
        { host: '127.0.0.1', port: portOf(b) },
      ]);
      // The first media stream goes to A, the reconnect to B; everything else round robin.
      let upgrades = 0;
      // The transcription socket (its own subscription) follows its call's media socket here, so this
      // test sees the hand-over alone; a transcription socket left on a non-owner forwards to the owner
      // (test/integration/transcription-remote-owner.test.ts).
      let mediaTarget = 0;
      balancer.route = (head) => {
        if (head.startsWith('GET /ws/media')) return (mediaTarget = upgrades++ === 0 ? 0 : 1);
        if (head.startsWith('GET /ws/transcription')) return mediaTarget;
        return undefined;
      };
      const { call, callId, run } = await place(`http://127.0.0.1:${portOf(a)}`, 'reconnect', 0);
      const report = await run;
      expect(report.failuresByCause).toEqual({});
      expect(upgrades).toBe(2);
      expect(call.mediaConnections).toBe(2);
      // B took the call over; A let go of it.
      await eventually(() => (a.calls.get(callId) === undefined && a.media.session(callId) === undefined ? true : undefined), 10_000);
      const doc = await eventually(async () => (await b.archive.archive.getTranscript(callId)) ?? (await a.archive.archive.getTranscript(callId)) ?? undefined, 20_000, 200);
      // greeting, then two caller turns each answered: one greeting only, both caller turns kept.
      expect(doc.turns.map((t) => t.speaker)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant']);
      expect(doc.turns.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    });
  });
});
