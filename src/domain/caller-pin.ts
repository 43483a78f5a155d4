// Caller PINs are never kept in clear. A profile stores a salted scrypt hash (`scrypt$N$salt$hash`,
// 16 random bytes of salt, 32 bytes of key) written when an operator sets the PIN; the PIN itself is
// never stored, returned by a route, logged or put into the conversation context (the responder's
// prompt may leave the process). At IncomingCall the hash goes into the call's authentication state;
// entered digits are checked against it with the same parameters, compared in constant time.
// scrypt runs off the event loop (libuv thread pool): never the synchronous variant on a call path.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 16_384;
const KEY_BYTES = 32;
const PREFIX = 'scrypt';

function derive(pin: string, salt: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(pin, salt, KEY_BYTES, { N: n, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** A salted hash of the PIN for storage. */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(pin, salt, N);
  return `${PREFIX}$${N}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `s` is a stored PIN hash (as opposed to a clear PIN from before hashing). */
export function isPinHash(s: unknown): s is string {
  return typeof s === 'string' && /^scrypt\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/.test(s);
}

/** Constant-time check of entered digits (a trailing # is ignored) against a stored hash. */
export async function verifyPin(entered: string, stored: string): Promise<boolean> {
  if (!isPinHash(stored)) return false;
  const [, n, salt, key] = stored.split('$') as [string, string, string, string];
  const want = Buffer.from(key, 'base64url');
  const cost = Number(n);
  if (!Number.isSafeInteger(cost) || cost < 1024 || cost > 1_048_576) return false;
  const given = await derive(entered.replace(/#$/, ''), Buffer.from(salt, 'base64url'), cost);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Legacy per-call digest (sha256 over call id and PIN), still accepted in auth states written before hashing. */
export function pinDigest(callId: string, pin: string): string {
  return createHash('sha256').update(`${callId}\u0000${pin}`).digest('base64url');
}

export function pinMatchesDigest(callId: string, entered: string, digest: string): boolean {
  const given = Buffer.from(pinDigest(callId, entered.replace(/#$/, '')));
  const want = Buffer.from(digest);
  return given.length === want.length && timingSafeEqual(given, want);
}
