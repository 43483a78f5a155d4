// The real CallAutomationClient, constructed as production constructs it (connection string;
// allowInsecureConnection only because the simulator's endpoint is http), against the simulator's
// Call Automation REST surface. Extend this file with the worker's own call-control adapter.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallAutomationClient } from '@azure/communication-call-automation';
import { RestError } from '@azure/core-rest-pipeline';
import { WebSocketServer } from 'ws';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { computeSignature } from '../../src/simulator/hmac.js';
import { createAcsJwtVerifier } from '../../src/server/acs-auth.js';
import { AcsCallControl } from '../../src/adapters/acs/call-control.js';
import { createCallAutomationClient } from '../../src/wiring/clients.js';
import { isVoiceError } from '../../src/domain/errors.js';
import { testConfig } from '../support/test-env.js';

function clientFor(connectionString: string): CallAutomationClient {
  const endpoint = new URL(/endpoint=([^;]+)/i.exec(connectionString)?.[1] ?? '');
  return new CallAutomationClient(connectionString, { allowInsecureConnection: endpoint.protocol === 'http:' });
}

interface Hook {
  server: Server;
  url: string;
  contexts: string[];
  callbacks: { type: string; data: Record<string, unknown> }[];
  refused: number;
  /** Media WebSocket connections accepted (after the ACS token checked out). */
  mediaSockets: number;
  waitFor(pred: () => boolean): Promise<void>;
}

/**
 * An Event Grid + callback endpoint that only records (the test drives the SDK itself). Callback tokens
 * are checked with the worker's own verifier, configured from sim.workerEnv().
 */
async function startHook(sim: Simulator): Promise<Hook> {
  const env = sim.workerEnv();
  const verifier = createAcsJwtVerifier({ jwksUrl: env.ACS_JWKS_URL as string, issuer: env.ACS_JWT_ISSUER as string, audience: env.ACS_RESOURCE_ID, disabled: false });
  const hook = { contexts: [] as string[], callbacks: [] as { type: string; data: Record<string, unknown> }[] } as Hook;
  hook.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '[]') as { eventType?: string; type?: string; data: Record<string, unknown> }[];
      if (req.url?.startsWith('/events')) {
        if (req.headers['aeg-event-type'] === 'SubscriptionValidation') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ validationResponse: body[0]?.data.validationCode }));
        }
        for (const e of body) hook.contexts.push(String(e.data.incomingCallContext));
        res.writeHead(200);
        return res.end();
      }
      try {
        await verifier.verify(req.headers.authorization);
      } catch {
        hook.refused++;
        res.writeHead(401);
        return res.end();
      }
      for (const e of body) hook.callbacks.push({ type: String(e.type).replace('Microsoft.Communication.', ''), data: e.data });
      res.writeHead(200);
      res.end();
    });
  });
  // The media stream the worker's adapter always asks for: accepted (token checked) and drained.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  hook.server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    verifier.verify(req.headers.authorization).then(
      () =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          hook.mediaSockets++;
          ws.on('error', () => undefined);
        }),
      () => {
        hook.refused++;
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
      },
    );
  });
  hook.server.on('close', () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}`;
  hook.refused = 0;
  hook.mediaSockets = 0;
  hook.waitFor = async (pred) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!pred()) throw new Error('condition not reached');
  };
  return hook;
}

describe('call automation SDK against the simulator', () => {
  let sim: Simulator;
  let hook: Hook;

  beforeAll(async () => {
    sim = await startSimulator();
    hook = await startHook(sim);
  });

  afterAll(async () => {
    await sim?.close();
    hook?.server.closeAllConnections();
    await new Promise((r) => hook?.server.close(r));
  });

  it('answerCall, getCallConnectionProperties, playToAll(text) and hangUp(true) succeed with the right callbacks', async () => {
    const run = sim.runCalls({ target: `${hook.url}/events`, calls: 1, concurrency: 1, scenario: 'silence', durationS: 30 });
    await hook.waitFor(() => hook.contexts.length > 0);
    const client = clientFor(sim.acsConnectionString);
    const answered = await client.answerCall(hook.contexts[0] as string, `${hook.url}/callbacks?callId=1`, { operationContext: 'answer-ctx' });
    const props = answered.callConnectionProperties;
    expect(props.callConnectionId).toMatch(/\S{8,}/);
    expect(props.serverCallId).toBe(sim.calls[0]?.serverCallId);
    expect(props.correlationId).toBe(sim.calls[0]?.correlationId);
    // The SDK passes the REST field through under its wire name (its typing says callbackUrl).
    expect((props as { callbackUri?: string }).callbackUri).toBe(`${hook.url}/callbacks?callId=1`);
    expect(props.source).toMatchObject({ phoneNumber: (sim.calls[0]?.caller.phoneNumber as { value: string }).value });
    expect(props.answeredby?.communicationUserId).toMatch(/^8:acs:/);
    await hook.waitFor(() => hook.callbacks.some((c) => c.type === 'CallConnected'));
    expect(hook.callbacks[0]?.data.operationContext).toBe('answer-ctx');

    const conn = answered.callConnection;
    const got = await conn.getCallConnectionProperties();
    expect(got.callConnectionState).toBe('connected');
    await conn.getCallMedia().playToAll([{ kind: 'textSource', text: 'Welcome to the test line.', voiceName: 'en-US-JennyNeural' }], { operationContext: 'greeting' });
    await hook.waitFor(() => hook.callbacks.some((c) => c.type === 'PlayCompleted'));
    expect(hook.callbacks.find((c) => c.type === 'PlayStarted')?.data.operationContext).toBe('greeting');
    expect(sim.calls[0]?.playRequests[0]?.sources).toEqual([{ kind: 'text', text: { text: 'Welcome to the test line.', voiceName: 'en-US-JennyNeural' } }]);

    await conn.hangUp(true);
    await hook.waitFor(() => hook.callbacks.some((c) => c.type === 'CallDisconnected'));
    const report = await run;
    expect(sim.calls[0]?.hangupRequests).toEqual(['terminate']);
    expect(sim.calls[0]?.answers).toBe(1);
    expect(sim.calls[0]?.disconnectedBy).toBe('worker');
    expect(report.latency.answer.count).toBe(1);
    expect(hook.refused).toBe(0);
    expect(sim.calls[0]?.callbacks.every((c) => c.status === 200)).toBe(true);
    // The call is gone: ACS answers 404.
    await expect(conn.getCallConnectionProperties()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses a request signed with the wrong key with 401', async () => {
    const wrong = sim.acsConnectionString.replace(/accesskey=.*$/, `accesskey=${randomBytes(32).toString('base64')}`);
    const err = await clientFor(wrong)
      .answerCall('whatever', `${hook.url}/callbacks`)
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RestError);
    expect((err as RestError).statusCode).toBe(401);
    expect(sim.unauthorizedRequests).toBeGreaterThan(0);
  });

  it('refuses an answer with an unknown incomingCallContext', async () => {
    await expect(clientFor(sim.acsConnectionString).answerCall('not-a-context', `${hook.url}/callbacks`)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('replays a repeated Repeatability-Request-ID instead of executing it twice', async () => {
    hook.contexts.length = 0;
    const run = sim.runCalls({ target: `${hook.url}/events`, calls: 1, concurrency: 1, scenario: 'silence', durationS: 30 });
    await hook.waitFor(() => hook.contexts.length > 0);
    const url = new URL(`${sim.url}/calling/callConnections:answer?api-version=2026-03-12`);
    const body = JSON.stringify({ incomingCallContext: hook.contexts[0], callbackUri: `${hook.url}/callbacks` });
    const rid = crypto.randomUUID();
    const send = () => {
      const date = new Date().toUTCString();
      const hash = createHash('sha256').update(body).digest('base64');
      const sig = computeSignature(sim.accessKey, 'POST', `${url.pathname}${url.search}`, date, url.host, hash);
      return fetch(url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-ms-date': date,
          'x-ms-content-sha256': hash,
          authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${sig}`,
          'repeatability-request-id': rid,
          'repeatability-first-sent': date,
        },
      });
    };
    const first = await send();
    const second = await send();
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const a = (await first.json()) as { callConnectionId: string };
    const b = (await second.json()) as { callConnectionId: string };
    expect(b.callConnectionId).toBe(a.callConnectionId);
    const call = sim.calls[sim.calls.length - 1];
    expect(call?.answers).toBe(1);
    await clientFor(sim.acsConnectionString).getCallConnection(a.callConnectionId).hangUp(false);
    await run;
    expect(call?.hangupRequests).toEqual(['delete']);
  });
});

describe("the worker's own call-control adapter against the simulator", () => {
  let sim: Simulator;
  let hook: Hook;
  // Built as the composition root builds it: from the config the worker loads from sim.workerEnv().
  const adapter = (env: Record<string, string>) => {
    const config = testConfig({ ...env, ACS_MAX_RETRIES: '2', ACS_RETRY_DELAY_MS: '10' });
    const client = createCallAutomationClient(config.acs);
    if (!client) throw new Error('ACS not configured');
    return new AcsCallControl(client, { requestTimeoutMs: config.acs.requestTimeoutMs });
  };

  beforeAll(async () => {
    sim = await startSimulator();
    hook = await startHook(sim);
  });

  afterAll(async () => {
    await sim?.close();
    hook?.server.closeAllConnections();
    await new Promise((r) => hook?.server.close(r));
  });

  it('answers, plays text and hangs up; the simulator records each and posts the callbacks', async () => {
    const control = adapter(sim.workerEnv());
    const run = sim.runCalls({ target: `${hook.url}/events`, calls: 1, concurrency: 1, scenario: 'silence', durationS: 30 });
    await hook.waitFor(() => hook.contexts.length > 0);
    const wsBase = hook.url.replace(/^http/, 'ws');
    const res = await control.answer({
      incomingCallContext: hook.contexts[0] as string,
      callbackUrl: `${hook.url}/callbacks?callId=a1&secret=s1`,
      mediaTransportUrl: `${wsBase}/ws/media?callId=a1&secret=s1`,
      audioFormat: 'pcm16KMono',
      channels: 'mixed',
      transcriptionLocale: 'en-US',
      operationContext: 'adapter-answer',
    });
    const call = sim.calls[0];
    expect(res.callConnectionId).toBe(call?.callConnectionId);
    expect(res.serverCallId).toBe(call?.serverCallId);
    expect(res.correlationId).toBe(call?.correlationId);
    expect(call?.answers).toBe(1);
    expect(call?.answer?.callbackUri).toBe(`${hook.url}/callbacks?callId=a1&secret=s1`);
    expect(call?.answer?.operationContext).toBe('adapter-answer');
    expect(call?.answer?.mediaStreamingOptions).toMatchObject({
      transportUrl: `${wsBase}/ws/media?callId=a1&secret=s1`,
      enableBidirectional: true,
      audioFormat: 'pcm16KMono',
      audioChannelType: 'mixed',
      startMediaStreaming: true,
    });
    expect(call?.answer?.transcriptionOptions).toMatchObject({ locale: 'en-US', transportUrl: `${wsBase}/ws/media?callId=a1&secret=s1` });
    await hook.waitFor(() => hook.callbacks.some((c) => c.type === 'CallConnected') && hook.mediaSockets === 1);
    expect(hook.callbacks.find((c) => c.type === 'CallConnected')?.data.operationContext).toBe('adapter-answer');

    await control.playText(res.callConnectionId, 'Your balance is ten dollars.', { voiceName: 'en-US-JennyNeural', operationContext: 'adapter-play' });
    expect(call?.playRequests).toEqual([{ sources: [{ kind: 'text', text: { text: 'Your balance is ten dollars.', voiceName: 'en-US-JennyNeural' } }], operationContext: 'adapter-play' }]);
    await hook.waitFor(() => hook.callbacks.some((c) => c.type === 'PlayCompleted'));
    expect(hook.callbacks.find((c) => c.type === 'PlayStarted')?.data.operationContext).toBe('adapter-play');
    expect(hook.callbacks.find((c) => c.type === 'PlayCompleted')?.data).toMatchObject({ operationContext: 'adapter-play', callConnectionId: res.callConnectionId });

    await control.hangUp(res.callConnectionId, 'adapter-hangup');
    await hook.waitFor(() => hook.callbacks.some((c) => c.type === 'CallDisconnected'));
    expect(call?.hangupRequests).toEqual(['terminate']);
    expect(call?.disconnectedBy).toBe('worker');
    expect(hook.callbacks.find((c) => c.type === 'CallDisconnected')?.data.callConnectionId).toBe(res.callConnectionId);

    // The call is gone (ACS answers 404): hanging up again is what we wanted, not a failure...
    await expect(control.hangUp(res.callConnectionId, 'adapter-hangup-again')).resolves.toBeUndefined();
    expect(call?.hangupRequests).toEqual(['terminate']);
    // ...but any other operation on it is a permanent, typed failure.
    const playErr = await control.playText(res.callConnectionId, 'too late', { operationContext: 'late' }).catch((e: unknown) => e);
    expect(isVoiceError(playErr, 'CALL_CONTROL')).toBe(true);
    expect((playErr as Error).message).toContain('HTTP 404');

    const report = await run;
    expect(report.latency.answer.count).toBe(1);
    expect(call?.failure).toBeUndefined();
    expect(hook.refused).toBe(0);
    expect(sim.unauthorizedRequests).toBe(0);
  });

  it('surfaces a 401 (wrong access key) as VOICE_ERR_CALL_CONTROL, never as a 404-style success', async () => {
    const wrongKey = sim.acsConnectionString.replace(/accesskey=.*$/, `accesskey=${randomBytes(32).toString('base64')}`);
    const control = adapter({ ...sim.workerEnv(), ACS_CONNECTION_STRING: wrongKey });
    const before = sim.unauthorizedRequests;
    const err = await control
      .answer({
        incomingCallContext: 'any',
        callbackUrl: `${hook.url}/callbacks?callId=x&secret=y`,
        mediaTransportUrl: `${hook.url.replace(/^http/, 'ws')}/ws/media?callId=x&secret=y`,
        audioFormat: 'pcm16KMono',
        channels: 'mixed',
        transcriptionLocale: null,
        operationContext: 'wrong-key',
      })
      .catch((e: unknown) => e);
    expect(isVoiceError(err, 'CALL_CONTROL')).toBe(true);
    expect((err as { code: string }).code).toBe('VOICE_ERR_CALL_CONTROL');
    expect((err as Error).message).toContain('HTTP 401');
    expect(((err as Error).cause as RestError).statusCode).toBe(401);
    // 401 is not retried: exactly one refused request.
    expect(sim.unauthorizedRequests).toBe(before + 1);

    const hangErr = await control.hangUp('any-connection', 'wrong-key').catch((e: unknown) => e);
    expect(isVoiceError(hangErr, 'CALL_CONTROL')).toBe(true);
    expect(sim.unauthorizedRequests).toBe(before + 2);
  });
});
