// Maps what the call-automation SDK throws (RestError by shape, aborts, socket errors) to the error
// catalog: CALL_CONTROL_TRANSIENT when trying again may work, CALL_CONTROL otherwise.
import { voiceError, type VoiceError } from '../../domain/errors.js';

/** Status codes worth another attempt. */
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Node / pipeline error codes of a request that never got an answer. */
const TRANSIENT_CODES = new Set([
  'REQUEST_SEND_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface ErrorShape {
  readonly name?: unknown;
  readonly statusCode?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
}

/** HTTP status of an SDK error, when it has one. */
export function statusOf(err: unknown): number | undefined {
  const s = (err as ErrorShape | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

export function isTransient(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as ErrorShape;
  const status = statusOf(err);
  if (status !== undefined) return TRANSIENT_STATUS.has(status);
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  return typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}

/** Wraps an SDK failure of `op` as a typed VoiceError (the SDK error stays as the cause). */
export function toCallControlError(op: string, err: unknown): VoiceError {
  const status = statusOf(err);
  const code = (err as ErrorShape | null)?.code;
  const detail = status !== undefined ? `HTTP ${status}` : typeof code === 'string' ? code : err instanceof Error ? err.name : String(err);
  return voiceError(isTransient(err) ? 'CALL_CONTROL_TRANSIENT' : 'CALL_CONTROL', `${op} failed: ${detail}`, err);
}
