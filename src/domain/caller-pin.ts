// A caller's PIN never enters the conversation context (the responder's prompt may leave the
// process): the profile's PIN is kept only as a per-call digest in the call's authentication state.
import { createHash, timingSafeEqual } from 'node:crypto';

/** sha256 over the call id and the PIN: the same PIN gives a different digest on every call. */
export function pinDigest(callId: string, pin: string): string {
  return createHash('sha256').update(`${callId}\u0000${pin}`).digest('base64url');
}

/** Constant-time check of entered digits (a trailing # is ignored) against a stored digest. */
export function pinMatchesDigest(callId: string, entered: string, digest: string): boolean {
  const given = Buffer.from(pinDigest(callId, entered.replace(/#$/, '')));
  const want = Buffer.from(digest);
  return given.length === want.length && timingSafeEqual(given, want);
}
