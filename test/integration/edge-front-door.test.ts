// The front door: /api/incoming-call authenticated by the Event Grid webhook key before any effect
// ("How to secure webhook endpoints and websocket connections" defers IncomingCall to the Event Grid
// subscription; the key rides in the subscription URL's query), and an HTTP server that does not let a
// slow body hold a connection open.
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
      n += keys.length;
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
