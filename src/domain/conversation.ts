// The conversation model: what the responder reads and the turn pipeline writes.

export const CONVERSATION_SCHEMA_VERSION = 1;

/** 'tool': a tool call and its result (function calling), as the agent's memory of it. */
export type Speaker = 'user' | 'assistant' | 'system' | 'tool';

export interface Turn {
  /** Per-call monotonic sequence number, starting at 1. Appending the same seq twice stores it once. */
  readonly seq: number;
  readonly speaker: Speaker;
  readonly text: string;
  /** Epoch milliseconds when the turn began. */
  readonly at: number;
  /** How the caller spoke: speech (transcription) or dtmf. */
  readonly kind?: 'speech' | 'dtmf';
  readonly confidence?: number;
  /** Assistant turns only: the caller barged in, `text` holds only what was played. */
  readonly interrupted?: boolean;
  /** Assistant turns only: milliseconds of audio actually played. */
  readonly playedMs?: number;
}

export interface ConversationState {
  readonly callId: string;
  readonly schemaVersion: number;
  /** Caller profile, slots, flags: what the responder reads and patches. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Ordered by seq, oldest first, capped (oldest trimmed). */
  readonly history: readonly Turn[];
  /** Turns ever appended, including trimmed ones. */
  readonly turnCount: number;
}

export function emptyConversation(callId: string): ConversationState {
  return { callId, schemaVersion: CONVERSATION_SCHEMA_VERSION, context: {}, history: [], turnCount: 0 };
}
