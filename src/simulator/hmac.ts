// ACS HMAC-SHA256 request authentication, as the Communication SDKs sign it:
//   stringToSign = VERB \n pathAndQuery \n x-ms-date;host;x-ms-content-sha256
//   Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>
// where pathAndQuery is the URL path plus URLSearchParams' serialisation of the query, the content hash
// is base64 SHA-256 of the body and the key is the base64-decoded access key.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  readonly method: string;
  /** The request target as received (path and raw query). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export type HmacResult = { ok: true } | { ok: false; reason: string };

const PREFIX = 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=';
/** Requests older or newer than this are refused (ACS allows 15 minutes of clock skew). */
const MAX_SKEW_MS = 15 * 60 * 1000;

function header(h: SignedRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function pathAndQuery(rawUrl: string): string {
  const url = new URL(rawUrl, 'http://placeholder');
  const query = url.searchParams.toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}

export function computeSignature(accessKey: string, method: string, pq: string, date: string, host: string, contentHash: string): string {
  const stringToSign = `${method.toUpperCase()}\n${pq}\n${date};${host};${contentHash}`;
  return createHmac('sha256', Buffer.from(accessKey, 'base64')).update(stringToSign).digest('base64');
}

export function verifyHmac(req: SignedRequest, accessKey: string, nowMs = Date.now()): HmacResult {
  const auth = header(req.headers, 'authorization');
  const date = header(req.headers, 'x-ms-date');
  const host = header(req.headers, 'host');
  const claimedHash = header(req.headers, 'x-ms-content-sha256');
  if (!auth || !auth.startsWith(PREFIX)) return { ok: false, reason: 'missing or malformed HMAC-SHA256 Authorization header' };
  if (!date || !host || claimedHash === undefined) return { ok: false, reason: 'missing x-ms-date, host or x-ms-content-sha256' };
  const when = Date.parse(date);
  if (Number.isNaN(when) || Math.abs(nowMs - when) > MAX_SKEW_MS) return { ok: false, reason: 'x-ms-date missing or outside the allowed clock skew' };
  const actualHash = createHash('sha256').update(req.body).digest('base64');
  if (actualHash !== claimedHash) return { ok: false, reason: 'x-ms-content-sha256 does not match the body' };
  const expected = Buffer.from(computeSignature(accessKey, req.method, pathAndQuery(req.url), date, host, claimedHash), 'base64');
  const given = Buffer.from(auth.slice(PREFIX.length), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
