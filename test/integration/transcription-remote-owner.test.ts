// Real-time transcription on a replica other than the call's owner. ACS gives transcription its own
// transportUrl and opens it as its own WebSocket ("Add real-time transcription into your application",
// learn.microsoft.com); behind an ingress without session affinity it may land anywhere. Two workers
// on one private redis-server behind a round-robin balancer: the audio socket goes to A (the owner), the
// transcription socket to B. B forwards the final transcripts to A over the callback forwarding (Redis
// pub/sub); A turns each into a user turn and speaks the reply on its audio socket. B never takes the
// call: no lease, no resumed call, no media session.
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { eventually, workerCallId } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { startMediaJwks, type MediaJwks } from '../support/media-jwks.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { startBalancer, type TcpBalancer } from '../support/tcp-balancer.js';
import { testAppName, testConfig } from '../support/test-env.js';

const CALLER = '4:+15550001234';

async function metric(w: Worker, name: string, labels: Record<string, string>): Promise<number> {
  let sum = 0;
  for (const line of (await w.registry.metrics()).split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('transcription socket on a replica that does not own the call', () => {
  let redis: PrivateRedis;
  let sim: Simulator;
  // Per test: its own balancer and replicas (a keep-alive connection through the balancer stays on
  // the replica it was piped to, so a later test must not inherit one to an earlier test's replica).
  let balancer: TcpBalancer;
  let workers: Worker[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator();
  });
  beforeEach(async () => {
    balancer = await startBalancer([]);
  });
  afterEach(async () => {
    for (const w of workers) await w.stop('test end').catch(() => undefined);
    workers = [];
    await balancer?.close();
  });
  afterAll(async () => {
    await sim?.close();
    await redis?.stop();
  });

  async function worker(appName: string): Promise<Worker> {
    const port = await freePort();
    const w = await createWorker(
      testConfig({ ...sim.workerEnv(), APP_NAME: appName, REDIS_URL: redis.url, PORT: String(port), PUBLIC_BASE_URL: balancer.url, WORKER_ID: `w-${randomUUID().slice(0, 8)}` }),
      silentLogger(),
      { defaultMetrics: false },
    );
    await w.start();
    workers.push(w);
    return w;
  }

  it.each([
    ['A (the owner)', 0],
    ['B (the transcription replica)', 1],
  ])('answered by %s: final transcripts sent on B reach the owner A, each gets a user turn and an agent reply on the audio socket', async (_who, answerer) => {
    const appName = testAppName();
    const a = await worker(appName);
    const b = await worker(appName);
    const portOf = (w: Worker) => (w.app.server.address() as { port: number }).port;
    balancer.setTargets([
      { host: '127.0.0.1', port: portOf(a) },
      { host: '127.0.0.1', port: portOf(b) },
    ]);
    // The audio socket to A, the transcription socket to B; callbacks round robin.
    balancer.route = (head) => (head.startsWith('GET /ws/media') ? 0 : head.startsWith('GET /ws/transcription') ? 1 : undefined);

    const before = sim.calls.length;
    const target = `http://127.0.0.1:${portOf(answerer === 0 ? a : b)}/api/incoming-call`;
    const run = sim.runCalls({ target, calls: 1, concurrency: 1, scenario: 'qa', durationS: 0 });
    const call = await eventually(() => (sim.calls[before]?.answer ? sim.calls[before] : undefined), 20_000);
    const callId = workerCallId(call);
    const report = await run;

    // The qa scenario waits for the agent's reply (audio on the audio socket, A) after each final transcript.
    expect(report.failuresByCause).toEqual({});
    expect(report.protocolViolations).toBe(0);
    expect(call.transcriptionConnections).toBe(1);
    expect(balancer.counts.get(portOf(b))).toBeGreaterThanOrEqual(1);
    // B forwarded the finals; A applied them; A alone owned the call.
    expect(await metric(b, 'voice_media_remote_events_total', { kind: 'transcript_final', result: 'forwarded' })).toBe(3);
    expect(await metric(a, 'voice_media_remote_events_total', { kind: 'transcript_final', result: 'delivered' })).toBe(3);
    expect(await metric(b, 'voice_owner_leases_total', {})).toBe(0);
    expect(b.media.session(callId)).toBeUndefined();
    expect(b.leases.holds(callId)).toBe(false);
    const doc = await eventually(async () => (await a.archive.archive.getTranscript(callId)) ?? (await b.archive.archive.getTranscript(callId)) ?? undefined, 20_000, 200);
    expect(doc.turns.map((t) => t.speaker)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
  });
});

// The same two replicas without a simulated call around them: a bare call (no state machine) on A,
// its transcription socket on B opened BEFORE any audio socket exists. With no owner yet B's events are
// held in Redis (like callbacks that arrive before the media socket); A collects and applies them when
// its audio socket takes the call; later events go straight over pub/sub. DTMF on the transcription
// socket travels the same way. And when the call's audio moves on, the transcription socket left behind
// keeps working: it forwards to the new owner.
describe('transcription on a non-owner replica (bare calls on two replicas)', () => {
  let redis: PrivateRedis;
  let jwks: MediaJwks;
  const workers: Worker[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    jwks = await startMediaJwks();
  });
  afterAll(async () => {
    for (const w of workers) await w.stop('test end').catch(() => undefined);
    await jwks?.close();
    await redis?.stop();
  });

  async function worker(appName: string): Promise<Worker> {
    const w = await createWorker(
      testConfig({ ...jwks.workerEnv(), APP_NAME: appName, REDIS_URL: redis.url, WORKER_ID: `w-${randomUUID().slice(0, 8)}` }),
      silentLogger(),
      { defaultMetrics: false },
    );
    await w.start();
    workers.push(w);
    return w;
  }

  async function open(w: Worker, path: string): Promise<WebSocket> {
    const port = (w.app.server.address() as { port: number }).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${await jwks.token()}` }, perMessageDeflate: false });
    ws.on('error', () => undefined);
    await once(ws, 'open');
    return ws;
  }

  const final = (text: string) =>
    JSON.stringify({ kind: 'TranscriptionData', transcriptionData: { text, format: 'display', confidence: 0.9, offset: 1, participantRawID: CALLER, resultStatus: 'Final' } });

  it('holds what B receives until A takes the call, then applies it in order; then forwards directly', async () => {
    const appName = testAppName();
    const a = await worker(appName);
    const b = await worker(appName);
    const callId = randomUUID();
    const secret = randomBytes(18).toString('base64url');
    await a.state.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
    const call = new LiveCall({ callId, from: CALLER, to: 'us', correlationId: null, startedAt: Date.now(), log: silentLogger(), callerRawId: CALLER });
    a.calls.add(call);
    const seen: string[] = [];
    call.events.on('transcript', (e) => seen.push(`transcript:${e.text}`));
    call.events.on('dtmf', (e) => seen.push(`dtmf:${e.tone}`));
    const query = `callId=${callId}&secret=${secret}`;

    const tr = await open(b, `/ws/transcription?${query}`);
    tr.send(JSON.stringify({ kind: 'TranscriptionMetadata', transcriptionMetadata: { subscriptionId: 's', locale: 'en-US', callConnectionId: 'c', correlationId: 'k' } }));
    tr.send(final('first words'));
    tr.send(JSON.stringify({ kind: 'DtmfData', dtmfData: { data: 'pound' } }));
    await eventually(async () => ((await metric(b, 'voice_media_remote_events_total', { result: 'held' })) === 2 ? true : undefined), 10_000);
    expect(seen).toEqual([]);
    expect(b.leases.holds(callId)).toBe(false);
    expect(b.calls.get(callId)).toBeUndefined();

    const audio = await open(a, `/ws/media?${query}`);
    audio.send(JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: 's', encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } }));
    await eventually(() => (seen.length === 2 ? true : undefined), 10_000);
    expect(seen).toEqual(['transcript:first words', 'dtmf:#']);
    expect(a.leases.holds(callId)).toBe(true);

    tr.send(final('second words'));
    await eventually(() => (seen.length === 3 ? true : undefined), 10_000);
    expect(seen[2]).toBe('transcript:second words');
    expect(await metric(b, 'voice_media_remote_events_total', { kind: 'transcript_final', result: 'forwarded' })).toBe(1);
    expect(await metric(a, 'voice_media_remote_events_total', { result: 'delivered' })).toBe(3);
    expect(b.media.session(callId)).toBeUndefined();
    tr.close();
    audio.close();
  });

  it('when the call moves to another replica, its transcription socket on the old owner stays open and forwards to the new owner', async () => {
    const appName = testAppName();
    const a = await worker(appName);
    const b = await worker(appName);
    const callId = randomUUID();
    const secret = randomBytes(18).toString('base64url');
    await a.state.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
    const bare = (w: Worker, seen: string[]) => {
      const c = new LiveCall({ callId, from: CALLER, to: 'us', correlationId: null, startedAt: Date.now(), log: silentLogger(), callerRawId: CALLER });
      c.events.on('transcript', (e) => seen.push(e.text));
      w.calls.add(c);
      return c;
    };
    const onA: string[] = [];
    const onB: string[] = [];
    const callA = bare(a, onA);
    bare(b, onB);
    const query = `callId=${callId}&secret=${secret}`;
    const metadata = JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: 's', encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } });

    const audioA = await open(a, `/ws/media?${query}`);
    audioA.send(metadata);
    const tr = await open(a, `/ws/transcription?${query}`);
    let trClosed = false;
    tr.on('close', () => (trClosed = true));
    tr.send(final('on the first owner'));
    await eventually(() => (onA.length === 1 ? true : undefined), 10_000);

    // ACS reconnects the audio stream to B: B takes the call (higher fence), A lets go of it.
    const audioB = await open(b, `/ws/media?${query}`);
    audioB.send(metadata);
    await eventually(() => (b.leases.holds(callId) ? true : undefined), 10_000);
    await eventually(async () => {
      await a.leases.renewNow();
      return a.leases.holds(callId) ? undefined : true;
    }, 10_000);
    callA.events.emit('released', { reason: 'lease lost to a newer owner' });
    await eventually(() => (a.media.session(callId) === undefined ? true : undefined), 5_000);

    tr.send(final('after the move'));
    await eventually(() => (onB.length === 1 ? true : undefined), 10_000);
    expect(onB).toEqual(['after the move']);
    expect(onA).toEqual(['on the first owner']);
    expect(trClosed).toBe(false);
    expect(await metric(a, 'voice_media_remote_events_total', { kind: 'transcript_final', result: 'forwarded' })).toBe(1);
    tr.close();
    audioA.close();
    audioB.close();
  });
});
