// One catalog of typed errors. Every error the worker raises on purpose derives from VoiceError and
// carries a stable code, and where it applies an HTTP status and/or a WebSocket close code.

export interface VoiceErrorSpec {
  readonly code: `VOICE_ERR_${string}`;
  readonly status?: number;
  readonly closeCode?: number;
}

export class VoiceError extends Error {
  readonly code: string;
  readonly status: number;
  readonly closeCode: number;
  constructor(spec: VoiceErrorSpec, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VoiceError';
    this.code = spec.code;
    this.status = spec.status ?? 500;
    this.closeCode = spec.closeCode ?? 1011;
  }
}

/** Stable codes. Add new entries; never change an existing code's meaning. */
export const ERR = {
  CONFIG: { code: 'VOICE_ERR_CONFIG' },
  BAD_REQUEST: { code: 'VOICE_ERR_BAD_REQUEST', status: 400 },
  BODY_TOO_LARGE: { code: 'VOICE_ERR_BODY_TOO_LARGE', status: 413 },
  UNAUTHENTICATED: { code: 'VOICE_ERR_UNAUTHENTICATED', status: 401, closeCode: 1008 },
  FORBIDDEN: { code: 'VOICE_ERR_FORBIDDEN', status: 403, closeCode: 1008 },
  NOT_FOUND: { code: 'VOICE_ERR_NOT_FOUND', status: 404 },
  CONFLICT: { code: 'VOICE_ERR_CONFLICT', status: 409 },
  DRAINING: { code: 'VOICE_ERR_DRAINING', status: 503, closeCode: 1001 },
  OVERLOADED: { code: 'VOICE_ERR_OVERLOADED', status: 503, closeCode: 1013 },
  RATE_LIMITED: { code: 'VOICE_ERR_RATE_LIMITED', status: 429 },
  INVALID_PAYLOAD: { code: 'VOICE_ERR_INVALID_PAYLOAD', status: 400, closeCode: 1007 },
  POLICY_VIOLATION: { code: 'VOICE_ERR_POLICY_VIOLATION', status: 400, closeCode: 1008 },
  MESSAGE_TOO_BIG: { code: 'VOICE_ERR_MESSAGE_TOO_BIG', status: 413, closeCode: 1009 },
  BACKEND_UNAVAILABLE: { code: 'VOICE_ERR_BACKEND_UNAVAILABLE', status: 503 },
  BACKEND_TIMEOUT: { code: 'VOICE_ERR_BACKEND_TIMEOUT', status: 504 },
  LEASE_LOST: { code: 'VOICE_ERR_LEASE_LOST', status: 409, closeCode: 1012 },
  STALE_FENCE: { code: 'VOICE_ERR_STALE_FENCE', status: 409 },
  CALL_CONTROL: { code: 'VOICE_ERR_CALL_CONTROL', status: 502 },
  CALL_CONTROL_TRANSIENT: { code: 'VOICE_ERR_CALL_CONTROL_TRANSIENT', status: 503 },
  ARCHIVE: { code: 'VOICE_ERR_ARCHIVE', status: 502 },
  ARCHIVE_THROTTLED: { code: 'VOICE_ERR_ARCHIVE_THROTTLED', status: 503 },
  ARCHIVE_INVALID_JOB: { code: 'VOICE_ERR_ARCHIVE_INVALID_JOB', status: 400 },
  QUEUE_UNAVAILABLE: { code: 'VOICE_ERR_QUEUE_UNAVAILABLE', status: 503 },
  RESPONDER: { code: 'VOICE_ERR_RESPONDER', status: 502 },
  RESPONDER_TIMEOUT: { code: 'VOICE_ERR_RESPONDER_TIMEOUT', status: 504 },
  TTS: { code: 'VOICE_ERR_TTS', status: 502 },
  ILLEGAL_TRANSITION: { code: 'VOICE_ERR_ILLEGAL_TRANSITION', status: 409 },
  SHUTDOWN: { code: 'VOICE_ERR_SHUTDOWN', status: 503, closeCode: 1001 },
  STATE_SCHEMA: { code: 'VOICE_ERR_STATE_SCHEMA', status: 500 },
} as const satisfies Record<string, VoiceErrorSpec>;

export type ErrorName = keyof typeof ERR;

export function voiceError(name: ErrorName, message: string, cause?: unknown): VoiceError {
  return new VoiceError(ERR[name], message, cause === undefined ? undefined : { cause });
}

export function isVoiceError(e: unknown, name?: ErrorName): e is VoiceError {
  return e instanceof VoiceError && (name === undefined || e.code === ERR[name].code);
}

/** Configuration problems, one line each as `VARIABLE: reason`. */
export class ConfigError extends VoiceError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(ERR.CONFIG, `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
