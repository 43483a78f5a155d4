// The front door: /api/incoming-call authenticated by the Event Grid webhook key before any effect
// ("How to secure webhook endpoints and websocket connections" defers IncomingCall to the Event Grid
// subscription; the key rides in the subscription URL's query), and an HTTP server that does not let a
// slow body hold a connection open.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { answerOne, incomingCallEvent, metricValue, postJson, startEdgeHarness, type EdgeHarness } from '../support/edge-harness.js';
import { removeKeys, testAppName, testRedisUrl } from '../support/test-env.js';

const KEY = 'front-door-key-0123456789abcdef';

async function keysUnder(appName: string): Promise<number> {
  const r = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
      cursor = next;
      // The operator console's own keys (live view, cached views) are refreshed on timers of their own.
      n += keys.filter((k) => !k.includes(':console:') && !k.includes(':cache:')).length;
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}

describe('Event Grid webhook key (EVENTGRID_WEBHOOK_KEY)', () => {
  let h: EdgeHarness;
  const appName = testAppName();
  beforeAll(async () => {
    h = await startEdgeHarness({ APP_NAME: appName, REDIS_URL: testRedisUrl(), EVENTGRID_WEBHOOK_KEY: KEY, INCOMING_CALLS_PER_WINDOW: '100' });
  });
  afterAll(async () => {
    await h.close();
    await removeKeys(testRedisUrl(), appName);
  });

  it('refuses the validation handshake without the key (401) and completes it with the key', async () => {
    const validation = [
      {
        id: 'v1',
        topic: 't',
        subject: '',
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: new Date().toISOString(),
        data: { validationCode: 'code-1', validationUrl: null },
        dataVersion: '1',
        metadataVersion: '1',
      },
    ];
    const headers = { 'aeg-event-type': 'SubscriptionValidation' };
    const without = await postJson(`${h.url}/api/incoming-call`, validation, headers);
    expect(without.status).toBe(401);
    expect(await without.json()).toMatchObject({ error: 'VOICE_ERR_UNAUTHENTICATED' });
    const wrong = await postJson(`${h.url}/api/incoming-call?key=${KEY}x`, validation, headers);
    expect(wrong.status).toBe(401);
    const right = await postJson(`${h.url}/api/incoming-call?key=${encodeURIComponent(KEY)}`, validation, headers);
    expect(right.status).toBe(200);
    expect(await right.json()).toEqual({ validationResponse: 'code-1' });
  });

  it('a forged batch of 100 IncomingCall events without the key has no effect: no Redis key, no admission, no answer', async () => {
    const keysBefore = await keysUnder(appName);
    const admissionsBefore = await metricValue(h.worker, 'voice_admission_total');
    const forged = Array.from({ length: 100 }, () => incomingCallEvent());
    const res = await postJson(`${h.url}/api/incoming-call`, forged);
    expect(res.status).toBe(401);
    const wrong = await postJson(`${h.url}/api/incoming-call?key=not-the-key-at-all-000000`, forged);
    expect(wrong.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.acs.answers).toEqual([]);
    expect(await keysUnder(appName)).toBe(keysBefore);
    expect(await metricValue(h.worker, 'voice_admission_total')).toBe(admissionsBefore);
    expect(h.worker.calls.size).toBe(0);
    expect(await metricValue(h.worker, 'voice_acs_auth_failures_total', { route: 'incoming-call' })).toBeGreaterThanOrEqual(2);
  });

  it('a real call with the key is still answered after the forged batch (the shared admission window is untouched)', async () => {
    const call = await answerOne(h, { query: `?key=${encodeURIComponent(KEY)}` });
    expect(h.worker.calls.get(call.callId)).toBeDefined();
  });
});

describe('slow request bodies (HTTP_REQUEST_TIMEOUT_MS)', () => {
  let h: EdgeHarness;
  beforeAll(async () => {
    h = await startEdgeHarness({ HTTP_REQUEST_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('cuts off a body trickled one byte at a time instead of keeping the connection for minutes', async () => {
    const { port } = new URL(h.url);
    const sock = connect(Number(port), '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`POST /api/incoming-call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[`);
    let reply = '';
    sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    const closed = new Promise<boolean>((r) => sock.once('close', () => r(true)));
    const trickle = setInterval(() => sock.write(' '), 200);
    const outcome = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 8000))]);
    clearInterval(trickle);
    sock.destroy();
    expect(outcome).toBe(true);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('caps the connections the server accepts (HTTP_MAX_CONNECTIONS default: 2 x MAX_CONCURRENT_CALLS + 1024)', () => {
    expect(h.worker.app.server.maxConnections).toBe(h.worker.config.calls.maxConcurrent * 2 + 1024);
  });
});

// ACS tokens ("How to secure webhook endpoints and websocket connections"): issuer
// https://acscallautomation.communication.azure.com, audience = the resource id, short lifetime. A token
// from any other issuer, or expired, is refused on callbacks (401) and on the media/transcription upgrade
// (401, no socket), and has no effect: no Redis key written or changed, no event claimed, no lease, no
// media session, the call's phase unchanged.
describe('ACS tokens from the wrong issuer or expired', () => {
  let h: EdgeHarness;
  const appName = testAppName();
  beforeAll(async () => {
    h = await startEdgeHarness({ APP_NAME: appName, REDIS_URL: testRedisUrl(), ACS_COGNITIVE_SERVICES_ENDPOINT: 'https://voice-ai.cognitiveservices.azure.com/' });
  });
  afterAll(async () => {
    await h.close();
    await removeKeys(testRedisUrl(), appName);
  });

  const upgrade = async (url: string, token: string): Promise<number> => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    ws.on('error', () => undefined);
    return new Promise<number>((resolve) => {
      ws.once('open', () => (ws.close(), resolve(101)));
      ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    });
  };

  /**
   * What Redis holds under this test's prefix: every key name (the TTS cache, filled by the start-up
   * warm-up, aside) and a digest of the value of each key of the call (its {callId} hash tag).
   */
  async function snapshotKeys(callId: string): Promise<Map<string, string>> {
    const r = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      const out = new Map<string, string>();
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) {
          if (k.includes(':tts:')) continue;
          const dump = k.includes(`{${callId}}`) ? await r.dump(k) : null;
          out.set(k, dump ? createHash('sha256').update(dump).digest('hex') : 'present');
        }
      } while (cursor !== '0');
      return out;
    } finally {
      r.disconnect();
    }
  }

  const callbackBatch = (callConnectionId: string, id: string) => [
    {
      id,
      source: `calling/callConnections/${callConnectionId}`,
      type: 'Microsoft.Communication.CallConnected',
      data: { callConnectionId, serverCallId: 's', correlationId: 'c' },
      time: new Date().toISOString(),
      specversion: '1.0',
      datacontenttype: 'application/json',
      subject: `calling/callConnections/${callConnectionId}`,
    },
  ];

  it('refuses a callback signed by the right key but a wrong issuer (401): nothing written, the event not claimed', async () => {
    const call = await answerOne(h);
    await new Promise((r) => setTimeout(r, 200));
    const before = await snapshotKeys(call.callId);
    const failuresBefore = await metricValue(h.worker, 'voice_acs_auth_failures_total', { route: 'callbacks', reason: 'jwt' });
    const event = callbackBatch(call.callConnectionId, `cb-${call.callId}`);
    const res = await postJson(call.callbackUrl, event, { authorization: `Bearer ${await h.jwks.token({ issuer: 'https://attacker.example' })}` });
    expect(res.status).toBe(401);
    expect(await snapshotKeys(call.callId)).toEqual(before);
    expect(h.worker.calls.get(call.callId)?.phase).toBe('answering');
    expect(await metricValue(h.worker, 'voice_acs_auth_failures_total', { route: 'callbacks', reason: 'jwt' })).toBe(failuresBefore + 1);
    // The same event id from ACS itself is then taken as new (the refused one claimed nothing).
    const real = await postJson(call.callbackUrl, event, { authorization: `Bearer ${await h.jwks.token()}` });
    expect(real.status).toBe(200);
    expect(await real.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(h.worker.calls.get(call.callId)?.phase).toBe('connected');
  });

  it('refuses media and transcription upgrades with a wrong-issuer or an expired token (401, no socket): nothing written, no lease, no media session', async () => {
    const call = await answerOne(h);
    const answer = h.acs.answers.find((a) => a.callConnectionId === call.callConnectionId);
    const media = String(answer?.body.mediaStreamingOptions['transportUrl']);
    const transcription = String(answer?.body.transcriptionOptions?.['transportUrl']);
    expect(new URL(transcription).pathname).toBe('/ws/transcription');
    const wrongIssuer = await h.jwks.token({ issuer: 'https://attacker.example' });
    const expired = await h.jwks.token({ expiresAt: Math.floor(Date.now() / 1000) - 3600 });
    await new Promise((r) => setTimeout(r, 200));
    const before = await snapshotKeys(call.callId);
    const refusedBefore = await metricValue(h.worker, 'voice_media_upgrades_refused_total', { reason: 'jwt' });
    for (const url of [media, transcription]) {
      expect(await upgrade(url, wrongIssuer)).toBe(401);
      expect(await upgrade(url, expired)).toBe(401);
    }
    expect(await metricValue(h.worker, 'voice_media_upgrades_refused_total', { reason: 'jwt' })).toBe(refusedBefore + 4);
    expect(await snapshotKeys(call.callId)).toEqual(before);
    expect(h.worker.media.server.size).toBe(0);
    expect(h.worker.media.session(call.callId)).toBeUndefined();
    expect(h.worker.leases.holds(call.callId)).toBe(false);
    expect(h.worker.calls.get(call.callId)?.phase).toBe('answering');
    expect(await upgrade(media, await h.jwks.token())).toBe(101);
  });
});
