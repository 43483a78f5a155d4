// Lua scripts return numeric codes; scriptError is the one place that maps a code to a typed
// VoiceError. toBackendError classifies client failures (connection, timeout) for the callers.
import { isVoiceError, voiceError, type VoiceError } from '../../domain/errors.js';

export const SCRIPT_CODE = {
  OK: 0,
  /** renewLease: the lease was gone and the holder took it back under its fence. */
  REASSERTED: 1,
  STALE_FENCE: -1,
  SCHEMA_NEWER: -2,
  LEASE_GONE: -3,
  RATE_LIMITED: -4,
  NO_SLOT: -5,
  /** reserveCallSlot: the global concurrency cap is reached. */
  GLOBAL_FULL: -6,
} as const;

export type ScriptCode = (typeof SCRIPT_CODE)[keyof typeof SCRIPT_CODE];

/** Maps a script's return code to an error (null for OK). `subject` names what was operated on. */
export function scriptError(code: number, subject: string): VoiceError | null {
  switch (code) {
    case SCRIPT_CODE.OK:
    case SCRIPT_CODE.REASSERTED:
      return null;
    case SCRIPT_CODE.STALE_FENCE:
      return voiceError('STALE_FENCE', `${subject}: held by a newer owner (stale fencing token)`);
    case SCRIPT_CODE.SCHEMA_NEWER:
      return voiceError('STATE_SCHEMA', `${subject}: stored with a newer schema version than this worker understands`);
    case SCRIPT_CODE.LEASE_GONE:
      return voiceError('LEASE_LOST', `${subject}: lease expired or released`);
    case SCRIPT_CODE.RATE_LIMITED:
      return voiceError('RATE_LIMITED', `${subject}: rate limit reached`);
    case SCRIPT_CODE.NO_SLOT:
      return voiceError('OVERLOADED', `${subject}: no concurrency slot free`);
    case SCRIPT_CODE.GLOBAL_FULL:
      return voiceError('OVERLOADED', `${subject}: the global concurrency cap is reached`);
    default:
      return voiceError('BACKEND_UNAVAILABLE', `${subject}: unexpected script code ${code}`);
  }
}

/** Throws the mapped error unless the code is OK. */
export function checkCode(code: unknown, subject: string): void {
  const err = scriptError(Number(code), subject);
  if (err) throw err;
}

/** A client-level failure (not a script code) as a VoiceError: timeout or unavailable. */
export function toBackendError(err: unknown, op: string): VoiceError {
  if (isVoiceError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/timed out/i.test(msg)) return voiceError('BACKEND_TIMEOUT', `redis ${op}: ${msg}`, err);
  return voiceError('BACKEND_UNAVAILABLE', `redis ${op}: ${msg}`, err);
}

/** True for failures that mean "Redis is not reachable right now" (worth an outbox and a retry). */
export function isBackendDown(err: unknown): boolean {
  return isVoiceError(err, 'BACKEND_UNAVAILABLE') || isVoiceError(err, 'BACKEND_TIMEOUT');
}
