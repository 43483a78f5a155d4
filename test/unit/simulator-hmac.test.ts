import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCommunicationAccessKeyCredentialPolicy } from '@azure/communication-common';
import { createPipelineRequest, createHttpHeaders, type PipelineRequest } from '@azure/core-rest-pipeline';
import { computeSignature, pathAndQuery, verifyHmac } from '../../src/simulator/hmac.js';

const key = randomBytes(32).toString('base64');

/** Signs a request with the SDK's own policy and returns what the server would receive. */
async function signWithSdk(method: 'GET' | 'POST', url: string, body: string | undefined, signingKey = key) {
  const policy = createCommunicationAccessKeyCredentialPolicy({ key: signingKey });
  let seen: PipelineRequest | undefined;
  const req = createPipelineRequest({ url, method, body, headers: createHttpHeaders() });
  await policy.sendRequest(req, async (r) => {
    seen = r;
    return { request: r, status: 200, headers: createHttpHeaders() };
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of seen!.headers) headers[k.toLowerCase()] = v;
  const u = new URL(url);
  return { method, url: `${u.pathname}${u.search}`, headers, body: Buffer.from(body ?? '') };
}

describe('ACS HMAC verification', () => {
  it('accepts a request signed by the SDK policy', async () => {
    const req = await signWithSdk('POST', 'http://127.0.0.1:1234/calling/callConnections:answer?api-version=2026-03-12', '{"incomingCallContext":"x"}');
    expect(verifyHmac(req, key)).toEqual({ ok: true });
  });

  it('accepts a body-less GET and a query needing normalisation', async () => {
    const req = await signWithSdk('GET', 'http://127.0.0.1:1234/calling/callConnections/abc?api-version=2026-03-12&x=a%20b', undefined);
    expect(verifyHmac(req, key)).toEqual({ ok: true });
    expect(pathAndQuery('/p?x=a%20b')).toBe('/p?x=a+b');
  });

  it('rejects a wrong key, a tampered body, a tampered path, a stale date and a missing header', async () => {
    const good = await signWithSdk('POST', 'http://127.0.0.1:1234/calling/callConnections/abc:play?api-version=1', '{"a":1}');
    expect(verifyHmac(good, randomBytes(32).toString('base64'))).toMatchObject({ ok: false, reason: 'signature mismatch' });
    expect(verifyHmac({ ...good, body: Buffer.from('{"a":2}') }, key)).toMatchObject({ ok: false });
    expect(verifyHmac({ ...good, url: '/calling/callConnections/abd:play?api-version=1' }, key)).toMatchObject({ ok: false, reason: 'signature mismatch' });
    expect(verifyHmac(good, key, Date.now() + 60 * 60 * 1000)).toMatchObject({ ok: false });
    const { authorization: _a, ...noAuth } = good.headers;
    expect(verifyHmac({ ...good, headers: noAuth }, key)).toMatchObject({ ok: false });
  });

  it('computes the documented string-to-sign', () => {
    const date = 'Sun, 22 Nov 2026 05:45:34 GMT';
    const hash = createHash('sha256').update('').digest('base64');
    const sig = computeSignature(key, 'get', '/calling/keys', date, 'h:1', hash);
    const again = createHmac('sha256', Buffer.from(key, 'base64')).update(`GET\n/calling/keys\n${date};h:1;${hash}`).digest('base64');
    expect(sig).toBe(again);
  });
});
