// A worker wired to a test JWKS server and the ACS answer stub, plus helpers to deliver Event Grid
// IncomingCall events and ACS callbacks the way ACS does.
import { randomUUID } from 'node:crypto';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { silentLogger } from '../../src/logger.js';
import { startAcsAnswerStub, type AcsAnswerStub } from './acs-answer-stub.js';
import { freePort } from './free-port.js';
import { startJwksServer, type TestJwks } from './jwks-server.js';
import { testConfig } from './test-env.js';

export interface EdgeHarness {
  readonly worker: Worker;
  readonly url: string;
  readonly acs: AcsAnswerStub;
  readonly jwks: TestJwks;
  close(): Promise<void>;
}

export async function startEdgeHarness(env: Record<string, string> = {}): Promise<EdgeHarness> {
  const jwks = await startJwksServer();
  const acs = await startAcsAnswerStub();
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
