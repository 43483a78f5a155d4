// Per-call records kept in the session store (Redis in production), each under its own TTL.

/** Authentication state of a call: the per-call secret and whether the caller verified. */
export interface CallAuthState {
  /** Random, 128+ bits, base64url. Compared in constant time. */
  readonly secret: string;
  readonly callerVerified: boolean;
  readonly failedAttempts: number;
  /** The salted hash of the caller's PIN from the profile (caller-pin.ts); absent when the profile has none. */
  readonly pinHash?: string;
  /** Legacy per-call digest (auth states written before PIN hashing). */
  readonly pinDigest?: string;
}

export type CallPhase = 'ringing' | 'answering' | 'connected' | 'streaming' | 'disconnecting' | 'ended';

/** Enough to resume a call after a replica loss. */
export interface CallSessionSnapshot {
  readonly callId: string;
  readonly phase: CallPhase;
  readonly callConnectionId: string | null;
  readonly correlationId: string | null;
  readonly serverCallId: string | null;
  /** Masked caller / callee identifiers; raw numbers live only in the conversation context. */
  readonly from: string;
  readonly to: string;
  readonly startedAt: number;
  readonly ownerWorkerId: string | null;
  readonly audioFormat: 'pcm16KMono' | 'pcm24KMono';
  readonly nextSeq: number;
  /** The call's tenant (admission) and direction: a resumed call keeps them for its archive job. */
  readonly tenantId?: string | null;
  readonly direction?: 'inbound' | 'outbound';
}

export type CallOutcome = 'completed' | 'caller-hangup' | 'agent-hangup' | 'failed' | 'timeout' | 'rejected' | 'worker-shutdown' | 'transferred' | 'responder-failed';

export interface CallSummary {
  readonly callId: string;
  readonly outcome: CallOutcome;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly turnCount: number;
  readonly bargeIns: number;
  readonly archived: boolean;
  /** Realtime (speech-to-speech) calls: model audio seconds in/out and tokens (from usage events). */
  readonly usage?: { readonly audioInS: number; readonly audioOutS: number; readonly inputTokens: number; readonly outputTokens: number };
}
