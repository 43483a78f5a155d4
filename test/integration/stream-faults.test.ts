// A replica dies with a call's audio stream, and Redis goes away while a call's transcription is on
// another replica. Real pieces: a `serve` child process (SIGKILLed by the test), an in-process worker,
// a round-robin TCP balancer (an ingress without session affinity), redis-server, the simulator as ACS.
//
// What ACS does when the WebSocket server of a stream goes away is not spelled out in the docs: the
// SDK's status details name streamConnectionInterrupted and streamConnectionReestablished
// (KnownMediaStreamingStatusDetails, @azure/communication-call-automation), the SDK's own sample of a
// MediaStreamingFailed carries streamConnectionUnsuccessful 500/8603 "not able to establish websocket
// connection", and TranscriptionFailed 8578 says the same of transcription ("Add real-time
// transcription into your application", event codes). So both are covered: ACS re-opens the stream
// (the simulator's 'reconnect'), or it reports the failure and waits for the application, which
// restarts streaming through Call Automation (startMediaStreaming), ACS opening a new socket that the
// ingress sends to the live replica. Either way the survivor resumes the call from Redis: no second
// greeting, every caller turn answered and archived.
//
// Redis away while a call's transcription socket is on the replica that does not hold its audio:
// restarted empty after 8 s, the final results wait out the outage in the forwarder (retried, in
// order) instead of being dropped; frozen (SIGSTOP) past the caller's patience and past TTL_LEASE,
// they go straight to the owner (PEER_URL, authenticated with the socket's ACS token and call secret),
// and a callback for the call that lands on the other replica, whose secret cannot be checked, is
// parked (202) and replayed once Redis answers. Bounded: calls of ~20-40 s, deadlines on every wait.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { eventually, workerCallId } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { startBalancer, type TcpBalancer } from '../support/tcp-balancer.js';
import { testAppName, testConfig } from '../support/test-env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('streams survive their replica and Redis (real processes, private redis-server)', () => {
  let redis: PrivateRedis;
  let sim: Simulator;
  let balancer: TcpBalancer;
  const workers: Worker[] = [];
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator();
  });
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await sim?.close();
    for (const w of workers) await w.stop('test end').catch(() => undefined);
    await balancer?.close();
    await redis?.stop();
  });

  const env = (appName: string, port: number, id: string, extra: Record<string, string> = {}): Record<string, string> => ({
    ...sim.workerEnv(),
    APP_NAME: appName,
    APP_ENV: 'test',
    REDIS_URL: redis.url,
    REDIS_COMMAND_TIMEOUT_MS: '300',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_BASE_URL: balancer.url,
    WORKER_ID: id,
    TTL_LEASE: '6',
    SPOOL_DIR: join(tmpdir(), 'voice-worker-test', appName, id),
    ...extra,
  });

  async function inProcess(appName: string, extra: (port: number) => Record<string, string> = () => ({})): Promise<{ w: Worker; port: number }> {
    const port = await freePort();
    const log = process.env.FAULT_TEST_LOG ? createLogger({ level: 'info' } as never) : silentLogger();
    const w = await createWorker(testConfig(env(appName, port, `b-${randomUUID().slice(0, 6)}`, extra(port))), log, { defaultMetrics: false });
    await w.start();
    workers.push(w);
    return { w, port };
  }

  async function child(appName: string): Promise<{ proc: ChildProcess; port: number; exited: Promise<unknown> }> {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env(appName, port, `a-${randomUUID().slice(0, 6)}`), LOG_LEVEL: process.env.FAULT_TEST_LOG ? 'info' : 'warn' },
      stdio: ['ignore', process.env.FAULT_TEST_LOG ? 'inherit' : 'ignore', 'pipe'],
    });
    procs.push(proc);
    proc.stderr?.resume();
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200 ? true : undefined), 45_000, 100);
    return { proc, port, exited };
  }

  for (const mode of ['reconnect', 'none'] as const) {
    it(`SIGKILL of the replica holding the audio (${mode === 'reconnect' ? 'ACS re-opens the stream' : 'ACS does not: the survivor restarts streaming'}): the call goes on there, every caller turn archived, one greeting`, async () => {
      const appName = testAppName();
      // A balancer of its own: the simulator's keep-alive connections of an earlier test stay pinned to that test's replicas.
      balancer = await startBalancer([]);
      const b = await inProcess(appName);
      const a = await child(appName);
      balancer.setTargets([
        { host: '127.0.0.1', port: a.port },
        { host: '127.0.0.1', port: b.port },
      ]);
      // The audio socket goes to A (while it lives), the transcription socket to B; the rest round robin.
      // Once A is dead the balancer's connect to it fails over to B.
      balancer.route = (head) => (head.startsWith('GET /ws/media') ? 0 : head.startsWith('GET /ws/transcription') ? 1 : undefined);
      const before = sim.calls.length;
      const run = sim.runCalls({ target: `${balancer.url}/api/incoming-call`, calls: 1, concurrency: 1, scenario: 'qa', durationS: 0, streamReconnect: mode });
      const call = await eventually(() => (sim.calls[before]?.answer ? sim.calls[before] : undefined), 20_000);
      const callId = workerCallId(call);
      // After the first caller turn was answered, A dies (no close frame, no finalization).
      await eventually(() => ((call.callerTurns ?? []).some((t) => t.finalAt !== undefined) && call.outboundFrames > 100 ? true : undefined), 30_000, 50).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: ${JSON.stringify({ failure: call.failure, state: call.state, media: call.mediaConnections, turns: call.callerTurns, out: call.outboundFrames, ops: call.mediaOperations })}`);
      });
      await sleep(1500);
      a.proc.kill('SIGKILL');
      await a.exited;
      const report = await run;
      expect(report.failuresByCause).toEqual({});
      expect(call.mediaConnections).toBe(2);
      // ACS re-opened the stream itself (no restart asked), or the survivor asked for one.
      if (mode === 'none') expect(call.mediaOperations).toContain('startMediaStreaming');
      else expect(call.mediaOperations).not.toContain('startMediaStreaming');
      expect(call.callbacks.filter((c) => c.status < 200 || c.status >= 300)).toEqual([]);
      // B resumed the call and finalized it: the transcript has one greeting and every caller turn spoken.
      const spoken = (call.callerTurns ?? []).filter((t) => t.finalAt !== undefined).length;
      expect(spoken).toBeGreaterThanOrEqual(3);
      const doc = await eventually(async () => (await b.w.archive.archive.getTranscript(callId)) ?? undefined, 20_000, 200);
      const speakers = doc.turns.map((t) => t.speaker);
      expect(speakers.filter((s) => s === 'user')).toHaveLength(spoken);
      expect(speakers[0]).toBe('assistant');
      expect(speakers[1]).toBe('user');
      expect(doc.turns.map((t) => t.seq)).toEqual(doc.turns.map((_, i) => i + 1));
      await b.w.stop('test end');
      await balancer.close();
    }, 120_000);
  }

  /** Two in-process replicas: the call answered on A and its audio there, its transcription socket on B, the rest round robin. */
  async function split(extra: (port: number) => Record<string, string>) {
    const appName = testAppName();
    balancer = await startBalancer([]);
    const a = await inProcess(appName, extra);
    const b = await inProcess(appName, extra);
    balancer.setTargets([
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: b.port },
    ]);
    balancer.route = (head) => (head.startsWith('GET /ws/media') || head.startsWith('POST /api/incoming-call') ? 0 : head.startsWith('GET /ws/transcription') ? 1 : undefined);
    return { a: a.w, b: b.w };
  }

  async function placeQa() {
    const before = sim.calls.length;
    const run = sim.runCalls({ target: `${balancer.url}/api/incoming-call`, calls: 1, concurrency: 1, scenario: 'qa', durationS: 0 });
    const call = await eventually(() => (sim.calls[before]?.answer ? sim.calls[before] : undefined), 20_000);
    // The first caller turn was answered (through B's forwarding); the fault comes as the caller starts the second.
    await eventually(() => ((call.callerTurns ?? []).length >= 2 ? true : undefined), 40_000, 20);
    return { call, callId: workerCallId(call), run };
  }

  it('Redis restarted EMPTY after 8 s with the transcription on the other replica: its final results wait out the outage; every caller turn answered and archived', async () => {
    const { a, b } = await split(() => ({}));
    const { call, callId, run } = await placeQa();
    await redis.stop();
    await sleep(8000);
    await redis.start();
    const report = await run;
    expect(report.failuresByCause).toEqual({});
    const spoken = (call.callerTurns ?? []).filter((t) => t.finalAt !== undefined).length;
    expect(spoken).toBe(3);
    const doc = await eventually(async () => (await a.archive.archive.getTranscript(callId)) ?? undefined, 20_000, 200);
    expect(doc.turns.filter((t) => t.speaker === 'user')).toHaveLength(spoken);
    await Promise.all([a.stop('test end'), b.stop('test end')]);
    await balancer.close();
  }, 120_000);

  it('Redis frozen (SIGSTOP) 20 s, past TTL_LEASE: transcription goes straight to the owner, a callback landing on the other replica is parked and replayed; nothing lost', async () => {
    const { a, b } = await split((port) => ({ PEER_URL: `http://127.0.0.1:${port}`, TTL_WORKER: '3' }));
    // Both replicas have seen each other's address (heartbeats every second).
    await sleep(1500);
    const { call, callId, run } = await placeQa();
    redis.signal('SIGSTOP');
    let parked: Response | undefined;
    try {
      await sleep(2000);
      // A callback of this call on B (which does not hold it): its secret cannot be checked now.
      const url = new URL('/api/callbacks', `http://127.0.0.1:${(b.app.server.address() as { port: number }).port}`);
      url.search = new URL(call.answer?.callbackUri ?? '').search;
      parked = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await sim.issueToken()}` },
        body: JSON.stringify([
          {
            id: randomUUID(),
            source: `calling/callConnections/${call.callConnectionId}`,
            type: 'Microsoft.Communication.ParticipantsUpdated',
            specversion: '1.0',
            time: new Date().toISOString(),
            data: { callConnectionId: call.callConnectionId, serverCallId: call.serverCallId, correlationId: call.correlationId, sequenceNumber: 7, participants: [] },
          },
        ]),
      });
      await sleep(18_000);
    } finally {
      redis.signal('SIGCONT');
    }
    expect(parked?.status).toBe(202);
    const report = await run;
    expect(report.failuresByCause).toEqual({});
    expect(call.callbacks.filter((c) => c.status < 200 || c.status >= 300)).toEqual([]);
    const spoken = (call.callerTurns ?? []).filter((t) => t.finalAt !== undefined).length;
    expect(spoken).toBe(3);
    const doc = await eventually(async () => (await a.archive.archive.getTranscript(callId)) ?? undefined, 20_000, 200);
    expect(doc.turns.filter((t) => t.speaker === 'user')).toHaveLength(spoken);
    // The parked callback is replayed on B's next try after Redis answers (every second).
    const bm = await eventually(async () => {
      const m = await b.registry.metrics();
      return /voice_callbacks_parked_total\{[^}]*outcome="replayed"/.test(m) ? m : undefined;
    }, 15_000, 200);
    expect(bm).toMatch(/voice_media_remote_events_total\{[^}]*kind="transcript_final"[^}]*result="direct"[^}]*\} [1-9]/);
    expect(bm).toMatch(/voice_callbacks_parked_total\{[^}]*outcome="replayed"[^}]*\} [1-9]/);
    // Replayed as if it had just arrived: de-duplicated, then applied here or sent on to the owner.
    expect(bm).toMatch(/voice_callbacks_total\{[^}]*type="ParticipantsUpdated"[^}]*outcome="(dispatched|forwarded|held)"[^}]*\} 1/);
    await Promise.all([a.stop('test end'), b.stop('test end')]);
    await balancer.close();
  }, 150_000);
});
