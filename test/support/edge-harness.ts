// A worker wired to a test JWKS server and the simulator's Call Automation server (src/simulator: the
// local ACS that follows the docs, driven here by the real @azure/communication-call-automation SDK the
// worker uses), plus helpers to deliver Event Grid IncomingCall events and ACS callbacks the way ACS does.
// The tests deliver IncomingCall themselves, so every incomingCallContext the worker answers counts as
// a call this ACS offered; nothing else runs on the call (no callbacks, no media) unless a test sends it.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { silentLogger } from '../../src/logger.js';
import { CallControl, type CallSession } from '../../src/simulator/call-control.js';
import { acsError, createRestServer, type CallControlHandlers } from '../../src/simulator/rest-server.js';
import { newSimCall, phoneIdentifier, type SimCall } from '../../src/simulator/sim-call.js';
import { freePort } from './free-port.js';
import { startJwksServer, type TestJwks } from './jwks-server.js';
import { testConfig } from './test-env.js';

export interface RecordedAnswer {
  readonly callConnectionId: string;
  /** The answer request body as the SDK sent it. */
  readonly body: {
    incomingCallContext: string;
    callbackUri: string;
    operationContext?: string;
    mediaStreamingOptions: Record<string, unknown>;
    transcriptionOptions?: Record<string, unknown>;
    callIntelligenceOptions?: Record<string, unknown>;
  };
}

/** The simulator's Call Automation REST server, with what the edge tests observe and inject. */
export interface SimAcs {
  readonly url: string;
  readonly connectionString: string;
  /** Answers the simulator executed (one per call). */
  readonly answers: RecordedAnswer[];
  /** Calls the worker hung up for everyone (POST …:terminate), by connection id. */
  readonly terminated: string[];
  /** Requests the simulator refused (bad signature, bad answer), and answer bodies this worker must not send. */
  readonly rejected: string[];
  /** The simulated call behind an answered connection. */
  call(callConnectionId: string): SimCall | undefined;
  /** The next `n` answer requests fail with `status`. */
  failNext(n: number, status: number): void;
  /** Holds the next answer request until the returned function is called (a slow ACS). */
  holdNext(): () => void;
  close(): Promise<void>;
}

const ANSWER_PATH = '/calling/callConnections:answer';

/** What this worker must ask ACS for (audio streaming and real-time transcription docs); null when it does. */
function answerProblem(b: RecordedAnswer['body']): string | null {
  const m = b.mediaStreamingOptions ?? {};
  const t = b.transcriptionOptions ?? {};
  if (!/^https?:\/\/.+\/api\/callbacks\?callId=[^&]+&secret=[^&]+$/.test(b.callbackUri ?? '')) return 'callbackUri';
  if (!b.operationContext) return 'operationContext missing';
  if (m['transportType'] !== 'websocket' || m['contentType'] !== 'audio') return 'media transport';
  if (!/^wss?:\/\/.+\/ws\/media\?callId=[^&]+&secret=[^&]+$/.test(String(m['transportUrl']))) return 'media transportUrl';
  if (m['startMediaStreaming'] !== true || m['enableBidirectional'] !== true || m['enableDtmfTones'] !== true) return 'media flags';
  if (!['pcm16KMono', 'pcm24KMono'].includes(String(m['audioFormat']))) return 'audioFormat';
  if (!['mixed', 'unmixed'].includes(String(m['audioChannelType']))) return 'audioChannelType';
  // Transcription is its own subscription on /ws/transcription, requested only with a Cognitive Services endpoint.
  if (b.transcriptionOptions !== undefined) {
    const same = String(m['transportUrl']).replace('/ws/media?', '/ws/transcription?');
    if (t['transportUrl'] !== same || t['startTranscription'] !== true || t['enableIntermediateResults'] !== true || !t['locale']) {
      return 'transcription options';
    }
  }
  return null;
}

export async function startSimAcs(): Promise<SimAcs> {
  const accessKey = randomBytes(32).toString('base64');
  const control = new CallControl(randomUUID());
  const answers: RecordedAnswer[] = [];
  const terminated: string[] = [];
  const rejected: string[] = [];
  const calls = new Map<string, SimCall>();
  const offered = new Map<string, SimCall>();
  let failures = { n: 0, status: 500 };
  let hold: Promise<void> | null = null;

  // A call this ACS offered, on which nothing happens unless the test does it.
  const offer = (incomingCallContext: string): void => {
    if (offered.has(incomingCallContext)) return;
    const hash = createHash('sha256').update(incomingCallContext).digest('hex');
    const call = newSimCall({
      index: offered.size,
      scenario: 'edge-test',
      incomingCallContext,
      contextExpiresAt: performance.now() + 60_000,
      serverCallId: `srv-${hash.slice(0, 24)}`,
      correlationId: randomUUID(),
      caller: phoneIdentifier('+15550001234'),
      callee: phoneIdentifier('+15550009876'),
      offeredAt: performance.now(),
    });
    offered.set(incomingCallContext, call);
    const session: CallSession = {
      call,
      answered: () => undefined,
      hungUp: (how) => {
        if (how === 'terminate' && call.callConnectionId) terminated.push(call.callConnectionId);
        call.state = 'disconnected';
      },
      mediaOperation: () => undefined,
    };
    control.offer(session);
  };

  const handlers: CallControlHandlers = {
    answer(body) {
      if (failures.n > 0) {
        failures = { ...failures, n: failures.n - 1 };
        return acsError(failures.status, 'Unavailable', 'injected failure');
      }
      const b = body as unknown as RecordedAnswer['body'];
      const problem = answerProblem(b);
      if (problem) {
        rejected.push(`answer ${problem}`);
        return acsError(400, 'BadRequest', problem);
      }
      if (typeof b.incomingCallContext === 'string' && b.incomingCallContext) offer(b.incomingCallContext);
      const result = control.answer(body);
      const id = (result.body as { callConnectionId?: string } | undefined)?.callConnectionId;
      if (result.status === 200 && id) {
        answers.push({ callConnectionId: id, body: b });
        const call = offered.get(b.incomingCallContext);
        if (call) calls.set(id, call);
      } else {
        rejected.push(`answer ${result.status}`);
      }
      return result;
    },
    get: (id) => control.get(id),
    hangUp: (id, how) => control.hangUp(id, how),
    mediaOperation: (id, op, body) => control.mediaOperation(id, op, body),
  };

  const server = createRestServer({ accessKey, jwks: () => ({ keys: [] }), handlers, onUnauthorized: (reason) => rejected.push(`signature ${reason}`) });
  // A slow ACS: hold one answer request before the simulator sees it.
  const [serve] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (hold && req.method === 'POST' && (req.url ?? '').startsWith(ANSWER_PATH)) {
      const h = hold;
      hold = null;
      void h.then(() => serve?.(req, res));
      return;
    }
    serve?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    connectionString: `endpoint=${url}/;accesskey=${accessKey}`,
    answers,
    terminated,
    rejected,
    call: (id) => calls.get(id),
    failNext(n, status) {
      failures = { n, status };
    },
    holdNext() {
      let release = () => {};
      hold = new Promise<void>((r) => (release = r));
      return () => release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface EdgeHarness {
  readonly worker: Worker;
  readonly url: string;
  readonly acs: SimAcs;
  readonly jwks: TestJwks;
  close(): Promise<void>;
}

export async function startEdgeHarness(env: Record<string, string> = {}): Promise<EdgeHarness> {
  const jwks = await startJwksServer();
  const acs = await startSimAcs();
  const port = await freePort();
  const worker = await createWorker(
    testConfig({
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ACS_CONNECTION_STRING: acs.connectionString,
      ACS_JWKS_URL: jwks.jwksUrl,
      ACS_JWT_ISSUER: jwks.issuer,
      ACS_RESOURCE_ID: jwks.audience,
      ACS_RETRY_DELAY_MS: '10',
      SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
      ...env,
    }),
    silentLogger(),
    { defaultMetrics: false },
  );
  const { url } = await worker.start();
  return {
    worker,
    url,
    acs,
    jwks,
    async close() {
      await worker.stop();
      await acs.close();
      await jwks.close();
    },
  };
}

export function incomingCallEvent(opts: { correlationId?: string; eventTime?: Date; id?: string } = {}) {
  const correlationId = opts.correlationId ?? randomUUID();
  return {
    id: opts.id ?? randomUUID(),
    topic: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/communicationServices/z',
    subject: 'incomingCall/caller/+15550001234/recipient/+15550009876',
    eventType: 'Microsoft.Communication.IncomingCall',
    eventTime: (opts.eventTime ?? new Date()).toISOString(),
    dataVersion: '1.0',
    metadataVersion: '1',
    data: {
      to: { kind: 'phoneNumber', rawId: '4:+15550009876', phoneNumber: { value: '+15550009876' } },
      from: { kind: 'PhoneNumber', rawId: '4:+15550001234', phoneNumber: { value: '+15550001234' } },
      serverCallId: `srv-${correlationId}`,
      callerDisplayName: 'Test Caller',
      incomingCallContext: `ctx-${correlationId}`,
      correlationId,
    },
  };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface AnsweredCall {
  readonly callId: string;
  readonly secret: string;
  readonly callConnectionId: string;
  readonly callbackUrl: string;
}

/** Delivers one IncomingCall and returns what the worker asked ACS to answer with. */
export async function answerOne(h: EdgeHarness, opts: { query?: string } = {}): Promise<AnsweredCall> {
  const before = h.acs.answers.length;
  const res = await postJson(`${h.url}/api/incoming-call${opts.query ?? ''}`, [incomingCallEvent()]);
  if (res.status !== 200) throw new Error(`incoming-call answered ${res.status}`);
  for (let i = 0; i < 200 && h.acs.answers.length === before; i++) await new Promise((r) => setTimeout(r, 10));
  const a = h.acs.answers[before];
  if (!a) throw new Error(`no answer reached ACS (rejected: ${h.acs.rejected.join(', ')})`);
  const u = new URL(a.body.callbackUri);
  const callId = u.searchParams.get('callId') as string;
  for (let i = 0; i < 200 && !h.worker.calls.byConnection(a.callConnectionId); i++) await new Promise((r) => setTimeout(r, 10));
  return { callId, secret: u.searchParams.get('secret') as string, callConnectionId: a.callConnectionId, callbackUrl: a.body.callbackUri };
}

export function callbackEvent(type: string, callConnectionId: string, opts: { id?: string; data?: Record<string, unknown> } = {}) {
  return {
    id: opts.id ?? randomUUID(),
    source: `calling/callConnections/${callConnectionId}`,
    type: `Microsoft.Communication.${type}`,
    data: { callConnectionId, serverCallId: 'srv', correlationId: 'corr', ...opts.data },
    time: new Date().toISOString(),
    specversion: '1.0',
    datacontenttype: 'application/json',
    subject: `calling/callConnections/${callConnectionId}`,
  };
}

/** Reads a counter's value for the given labels (0 when never incremented). */
export async function metricValue(w: Worker, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = w.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((s, v) => s + v.value, 0);
}
