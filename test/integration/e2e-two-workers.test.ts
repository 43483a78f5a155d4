// Two workers on one Redis, one of them a separate process started from the CLI, behind one simulated
// ACS: a callback posted to the replica that does not own the call reaches the owner's state machine
// (forwarded over pub/sub, or held until the owner takes the media socket), and an IncomingCall
// delivered to both replicas at once is answered exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { silentLogger } from '../../src/logger.js';
import type { LiveCall } from '../../src/domain/live-call.js';
import { eventually, workerCallId } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { removeKeys, testAppName, testConfig, testRedisUrl } from '../support/test-env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface ChildWorker {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly workerId: string;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

async function spawnWorker(env: Record<string, string>, port: number): Promise<ChildWorker> {
  const url = `http://127.0.0.1:${port}`;
  const workerId = `wb-${randomUUID().slice(0, 8)}`;
  const proc = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'serve', '--processes', '1'], {
    cwd: ROOT,
    // A clean environment: only what the worker needs, so nothing of the test runner leaks in.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, HOST: '127.0.0.1', PORT: String(port), PUBLIC_BASE_URL: url, WORKER_ID: workerId, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  proc.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  await eventually(
    async () => {
      if (gone) throw new Error(`worker B exited before it was ready:\n${output.join('')}`);
      const res = await fetch(`${url}/readyz`).catch(() => null);
      return res?.status === 200 ? true : undefined;
    },
    45_000,
    100,
  );
  return { proc, url, workerId, output, exited };
}

/** One sample of a Prometheus text exposition (0 when the series does not exist yet). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** The sum of every series of a metric matching `labels`. */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function metricsOf(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** The next `callback` event on a LiveCall that carries `marker` (subscribed before anything is posted). */
function nextCallback(call: LiveCall, marker: string): Promise<{ type: string; data: Readonly<Record<string, unknown>> }> {
  return new Promise((resolve) => {
    const off = call.events.on('callback', (e) => {
      if (e.data.marker !== marker) return;
      off();
      resolve(e);
    });
  });
}

describe('two workers on one Redis behind one simulated ACS', () => {
  let sim: Simulator;
  let a: Worker;
  let aUrl: string;
  let b: ChildWorker;
  let appName: string;
  /** While set, worker A's media upgrades wait for it before resolving the call (no owner meanwhile). */
  let mediaGate: Promise<void> | null = null;
  const runs: Promise<unknown>[] = [];

  beforeAll(async () => {
    sim = await startSimulator();
    appName = testAppName();
    const shared = { ...sim.workerEnv(), APP_NAME: appName, APP_ENV: 'test', REDIS_URL: testRedisUrl(), SHUTDOWN_DRAIN_TIMEOUT_MS: '5000' };
    const [portA, portB] = [await freePort(), await freePort()];
    aUrl = `http://127.0.0.1:${portA}`;
    a = await createWorker(
      testConfig({ ...shared, PORT: String(portA), PUBLIC_BASE_URL: aUrl, WORKER_ID: `wa-${randomUUID().slice(0, 8)}` }),
      silentLogger(),
      {
        defaultMetrics: false,
        resolveCall: async (callId) => {
          if (mediaGate) await mediaGate;
          return a.edge.resolveCall(callId);
        },
      },
    );
    await a.start();
    b = await spawnWorker(shared, portB);
  });

  afterAll(async () => {
    await Promise.allSettled(runs);
    if (b && b.proc.exitCode === null) b.proc.kill('SIGKILL');
    await sim?.close();
    await a?.stop('test end');
    if (appName) await removeKeys(testRedisUrl(), appName);
  });

  /** Places one call at worker A and waits until A answered it. */
  async function callAtA(): Promise<{ call: SimCall; callId: string; live: LiveCall }> {
    const before = sim.calls.length;
    runs.push(sim.runCalls({ target: `${aUrl}/api/incoming-call`, calls: 1, concurrency: 1, scenario: 'silence', durationS: 4 }));
    const call = await eventually(() => (sim.calls.length > before && sim.calls[before]?.answer ? sim.calls[before] : undefined), 20_000);
    const callId = workerCallId(call);
    const live = await eventually(() => a.calls.get(callId) ?? undefined);
    return { call, callId, live };
  }

  /** A callback ACS would post for the call, with a fresh event id, to `baseUrl` (worker B). */
  async function postCallback(baseUrl: string, call: SimCall, marker: string): Promise<Response> {
    const answerUrl = new URL(call.answer?.callbackUri ?? '');
    const url = new URL('/api/callbacks', baseUrl);
    url.search = answerUrl.search; // callId + the per-call secret the worker issued
    const event = {
      id: randomUUID(),
      source: `calling/callConnections/${call.callConnectionId}`,
      type: 'Microsoft.Communication.ParticipantsUpdated',
      specversion: '1.0',
      datacontenttype: 'application/json',
      time: new Date().toISOString(),
      subject: `calling/callConnections/${call.callConnectionId}`,
      data: {
        callConnectionId: call.callConnectionId,
        serverCallId: call.serverCallId,
        correlationId: call.correlationId,
        sequenceNumber: 7,
        participants: [{ identifier: call.caller, isMuted: true, isOnHold: false }],
        marker,
      },
    };
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sim.issueToken()}` },
      body: JSON.stringify([event]),
    });
  }

  it('a callback posted to the non-owner reaches the owner’s state machine (forwarded over pub/sub)', async () => {
    const { call, callId, live } = await callAtA();
    // A owns the call once it took the media socket: the lease is in Redis under A's id.
    await eventually(() => (a.leases.holds(callId) ? true : undefined));
    expect(await a.state.affinity.ownerOf(callId)).toBe(a.config.workerId);

    const bBefore = await metricsOf(b.url);
    const marker = randomUUID();
    const reached = nextCallback(live, marker);
    const res = await postCallback(b.url, call, marker);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, ignored: 0 });
    const ev = await reached;
    expect(ev.type).toBe('ParticipantsUpdated');
    expect(ev.data).toMatchObject({ callConnectionId: call.callConnectionId, sequenceNumber: 7 });

    // B forwarded it and did not apply it: it has no such call, and counted a forward, not a dispatch.
    const bAfter = await metricsOf(b.url);
    const delta = (name: string, labels: Record<string, string>) => sample(bAfter, name, labels) - sample(bBefore, name, labels);
    expect(delta('voice_callbacks_total', { type: 'ParticipantsUpdated', outcome: 'forwarded' })).toBe(1);
    expect(delta('voice_callbacks_total', { type: 'ParticipantsUpdated', outcome: 'dispatched' })).toBe(0);
    expect(delta('voice_events_routed_total', { outcome: 'forwarded' })).toBe(1);
    expect(total(bAfter, 'voice_calls')).toBe(0);
    expect(sample(await metricsOf(aUrl), 'voice_events_routed_total', { outcome: 'received' })).toBeGreaterThanOrEqual(1);
    // The call ends (the caller hangs up): the owner finalizes it and lets go of its media session.
    await eventually(() => (a.calls.get(callId) === undefined ? true : undefined), 15_000);
    await eventually(() => (a.media.session(callId) === undefined ? true : undefined), 5_000);
    expect(a.leases.holds(callId)).toBe(false);
    expect(call.failure).toBeUndefined();
  });

  it('a callback for a call with no owner yet is held and delivered when the owner takes the media socket', async () => {
    let open!: () => void;
    mediaGate = new Promise<void>((r) => (open = r));
    try {
      const { call, callId, live } = await callAtA();
      // A answered but its media upgrade is still resolving: nobody owns the call.
      expect(a.leases.holds(callId)).toBe(false);
      expect(await a.state.affinity.ownerOf(callId)).toBeNull();

      const bBefore = await metricsOf(b.url);
      const marker = randomUUID();
      let delivered = false;
      const reached = nextCallback(live, marker).then((e) => {
        delivered = true;
        return e;
      });
      const res = await postCallback(b.url, call, marker);
      expect(res.status).toBe(200);
      const bAfter = await metricsOf(b.url);
      expect(sample(bAfter, 'voice_callbacks_total', { type: 'ParticipantsUpdated', outcome: 'held' }) - sample(bBefore, 'voice_callbacks_total', { type: 'ParticipantsUpdated', outcome: 'held' })).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(delivered).toBe(false);

      open();
      const ev = await reached;
      expect(ev.data).toMatchObject({ callConnectionId: call.callConnectionId, marker });
      expect(a.leases.holds(callId)).toBe(true);
    } finally {
      mediaGate = null;
      open();
    }
  });

  it('the same IncomingCall delivered to both replicas at once is answered exactly once', async () => {
    // Event Grid in front of both replicas: every IncomingCall goes to A and B concurrently.
    const statuses: number[] = [];
    const fanOut: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        for (const h of ['aeg-event-type', 'aeg-subscription-name', 'aeg-delivery-count']) {
          const v = req.headers[h];
          if (typeof v === 'string') headers[h] = v;
        }
        const validation = req.headers['aeg-event-type'] === 'SubscriptionValidation';
        const targets = validation ? [aUrl] : [aUrl, b.url];
        Promise.all(targets.map((t) => fetch(`${t}/api/incoming-call`, { method: 'POST', headers, body }))).then(
          async (replies) => {
            if (!validation) statuses.push(...replies.map((r) => r.status));
            const first = replies[0] as Response;
            res.writeHead(first.status, { 'content-type': 'application/json' });
            res.end(await first.text());
          },
          () => {
            res.writeHead(502);
            res.end();
          },
        );
      });
    });
    await new Promise<void>((r) => fanOut.listen(0, '127.0.0.1', r));
    try {
      const target = `http://127.0.0.1:${(fanOut.address() as AddressInfo).port}/events`;
      const before = sim.calls.length;
      const [ma0, mb0] = [await metricsOf(aUrl), await metricsOf(b.url)];
      const acceptedBefore = total(ma0, 'voice_incoming_calls_total', { result: 'accepted' }) + total(mb0, 'voice_incoming_calls_total', { result: 'accepted' });
      const duplicatesBefore = total(ma0, 'voice_incoming_calls_total', { result: 'duplicate' }) + total(mb0, 'voice_incoming_calls_total', { result: 'duplicate' });
      const answeredBefore = total(ma0, 'voice_call_answers_total', { outcome: 'answered' }) + total(mb0, 'voice_call_answers_total', { outcome: 'answered' });
      const report = await sim.runCalls({ target, calls: 2, concurrency: 2, scenario: 'silence', durationS: 2 });
      const mine = sim.calls.slice(before);
      expect(mine).toHaveLength(2);
      expect(statuses).toEqual([200, 200, 200, 200]);
      for (const call of mine) {
        expect(call.answerRequests).toBe(1);
        expect(call.answers).toBe(1);
        expect(call.violations).toEqual([]);
        expect(call.failure).toBeUndefined();
      }
      expect(report.calls.failed).toBe(0);
      // Each call was answered by exactly one replica (its callback URL names that replica).
      const owners = mine.map((c) => new URL(c.answer?.callbackUri ?? '').origin);
      expect(owners.every((o) => o === aUrl || o === b.url)).toBe(true);
      // Across both replicas: each IncomingCall accepted once and seen once as a duplicate.
      const [ma, mb] = [await metricsOf(aUrl), await metricsOf(b.url)];
      const incoming = (result: string) => total(ma, 'voice_incoming_calls_total', { result }) + total(mb, 'voice_incoming_calls_total', { result });
      expect(incoming('accepted') - acceptedBefore).toBe(2);
      expect(incoming('duplicate') - duplicatesBefore).toBe(2);
      expect(total(ma, 'voice_call_answers_total', { outcome: 'answered' }) + total(mb, 'voice_call_answers_total', { outcome: 'answered' }) - answeredBefore).toBe(2);
    } finally {
      fanOut.closeAllConnections();
      await new Promise((r) => fanOut.close(r));
    }
  });

  it('worker B stops on SIGTERM and exits 0', async () => {
    b.proc.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // Nothing went wrong in B along the way (it logs at warn and above; errors are level 50+).
    const errors = b.output.join('').split('\n').filter((l) => /"level":(5|6)\d/.test(l));
    expect(errors).toEqual([]);
  });
});
