// The narrow interfaces the domain talks to. Adapters (src/adapters/*) implement them over SDKs;
// src/adapters/memory implements each in process. Nothing here imports an SDK.
import type { CallAuthState, CallSessionSnapshot, CallSummary } from './call-records.js';
import type { ArchiveJob, TranscriptDocument } from './archive-job.js';
import type { ConversationState, Turn } from './conversation.js';
import type { TransferRequestOptions, TransferTarget } from './transfer-target.js';

/** Wall-clock and monotonic time, injectable for tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds (fractional), for pacing and latency. */
  monotonic(): number;
}

export interface AppendResult {
  /** false when a turn with this seq was already stored (idempotent replay). */
  readonly stored: boolean;
  readonly turnCount: number;
  /** The seq the turn is stored under (the store assigns the next free one when `seq` was taken by another turn). */
  readonly seq?: number;
}

/** An append that also read the conversation as it stands after it. */
export interface AppendAndRead extends AppendResult {
  readonly state: ConversationState;
}

/** What the responder reads and the turn pipeline writes. One Redis round trip per method call. */
export interface ConversationStore {
  getState(callId: string): Promise<ConversationState>;
  updateContext(callId: string, patch: Readonly<Record<string, unknown>>): Promise<void>;
  appendTurn(callId: string, turn: Turn): Promise<AppendResult>;
  /** appendTurn, then getState, as one operation (one round trip): a turn's critical path. */
  appendTurnAndRead(callId: string, turn: Turn): Promise<AppendAndRead>;
}

/** Per-call records other than the conversation, each stored under its own TTL. */
export interface SessionStore {
  /** Set-if-absent with a TTL: true for the first claimant, false for every later one. */
  claim(kind: 'incoming-call' | 'event', id: string, owner: string): Promise<boolean>;
  releaseClaim(kind: 'incoming-call' | 'event', id: string): Promise<void>;
  putAuthState(callId: string, auth: CallAuthState): Promise<void>;
  getAuthState(callId: string): Promise<CallAuthState | null>;
  saveSession(snapshot: CallSessionSnapshot): Promise<void>;
  loadSession(callId: string): Promise<CallSessionSnapshot | null>;
  /** After the transcript is archived: the summary (summary TTL); the call's hot conversation may then expire early. */
  putSummary(callId: string, summary: CallSummary): Promise<void>;
  getSummary(callId: string): Promise<CallSummary | null>;
  /** Cold-read cache of an archived transcript (summary TTL). */
  putTranscript(callId: string, doc: TranscriptDocument): Promise<void>;
  getTranscript(callId: string): Promise<TranscriptDocument | null>;
}

/** Synthesized audio by content hash. */
export interface TtsCache {
  get(key: string): Promise<Uint8Array | null>;
  /** Several lookups as one (one pipelined Redis round trip); answers in the order of `keys`. */
  getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]>;
  put(key: string, audio: Uint8Array): Promise<void>;
}

export interface Lease {
  readonly callId: string;
  readonly owner: string;
  /** Fencing token: strictly increases with each new acquisition of the call. */
  readonly fence: number;
}

export interface RenewResult {
  /** Calls another replica owns now (a higher fence was issued): this replica must let them go. */
  readonly lost: string[];
  /** Calls whose lease was gone (expired, flushed, failover) and was taken back under the same fence. */
  readonly reasserted: string[];
}

/** Owner lease per call (fenced) and routing of events to the owner replica. */
export interface AffinityStore {
  acquire(callId: string, owner: string): Promise<Lease>;
  /**
   * Renews many leases in one round trip. A lease found gone is re-asserted by its holder unless a
   * higher fence was issued since; only a newer owner means "lost".
   */
  renewAll(leases: readonly Lease[]): Promise<RenewResult>;
  release(lease: Lease): Promise<void>;
  ownerOf(callId: string): Promise<string | null>;
}

/** Archive of finished calls (Cosmos in production). Upserts are idempotent by callId. */
export interface ArchiveStore {
  upsertTranscript(doc: TranscriptDocument): Promise<void>;
  getTranscript(callId: string): Promise<TranscriptDocument | null>;
}

/** Hands finished calls to the archive pipeline (Service Bus in production). Never blocks a call. */
export interface ArchiveQueue {
  enqueue(job: ArchiveJob): Promise<void>;
}

export interface CallerProfile {
  readonly id: string;
  readonly name?: string;
  readonly accountBalance?: number;
  /** Legacy clear PIN (profiles written before hashing); never written now, never returned. */
  readonly pin?: string;
  /** Salted hash of the PIN (caller-pin.ts hashPin). Never returned by a route. */
  readonly pinHash?: string;
  readonly [key: string]: unknown;
}

/** Caller profiles, cache-aside. */
export interface ProfileStore {
  get(id: string): Promise<CallerProfile | null>;
  put(profile: CallerProfile): Promise<void>;
}

export interface AnswerRequest {
  readonly incomingCallContext: string;
  readonly callbackUrl: string;
  readonly mediaTransportUrl: string;
  /** Where ACS opens the transcription socket (its own subscription); defaults to mediaTransportUrl. */
  readonly transcriptionTransportUrl?: string;
  readonly audioFormat: 'pcm16KMono' | 'pcm24KMono';
  readonly channels: 'mixed' | 'unmixed';
  readonly transcriptionLocale: string | null;
  readonly operationContext: string;
}

/** An outbound call: the PSTN target, the caller id shown (an ACS number), and the same media options as an answer. */
export interface CreateCallRequest {
  readonly target: string;
  readonly callerId: string;
  readonly callbackUrl: string;
  readonly mediaTransportUrl: string;
  readonly audioFormat: 'pcm16KMono' | 'pcm24KMono';
  readonly operationContext: string;
}

export interface AnswerResult {
  readonly callConnectionId: string;
  readonly serverCallId: string | undefined;
  readonly correlationId: string | undefined;
}

/** Call Automation, as the domain needs it. */
export interface CallControl {
  answer(req: AnswerRequest): Promise<AnswerResult>;
  /** Ends the call for everyone. A call that is already gone counts as success. */
  hangUp(callConnectionId: string, operationContext: string): Promise<void>;
  playText(callConnectionId: string, text: string, opts: { voiceName?: string; operationContext: string }): Promise<void>;
  cancelMedia(callConnectionId: string, operationContext: string): Promise<void>;
  startMediaStreaming(callConnectionId: string, operationContext: string): Promise<void>;
  stopMediaStreaming(callConnectionId: string, operationContext: string): Promise<void>;
  startTranscription(callConnectionId: string, operationContext: string): Promise<void>;
  stopTranscription(callConnectionId: string, operationContext: string): Promise<void>;
  /** Transfers the caller away to `target`; ACS answers with CallTransferAccepted or CallTransferFailed. */
  transfer(callConnectionId: string, target: TransferTarget, opts: TransferRequestOptions): Promise<void>;
  /** Places an outbound PSTN call (ACS createCall); optional. */
  createCall?(req: CreateCallRequest): Promise<AnswerResult>;
  /** Declines an incoming call (ACS rejectCall) with a reason; optional: without it a refused call gets 503. */
  reject?(incomingCallContext: string, reason: 'busy' | 'none' | 'forbidden'): Promise<void>;
}

export type ResponderChunk =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'context'; readonly patch: Readonly<Record<string, unknown>> }
  | { readonly type: 'action'; readonly action: 'hangup' | 'transfer' }
  /** A tool the model called, with its result (masked): stored as a conversation turn, speaker 'tool'. */
  | { readonly type: 'tool'; readonly record: string };

export interface ResponderInput {
  readonly callId: string;
  readonly state: ConversationState;
  /** The caller input that triggered this turn. */
  readonly input: { readonly kind: 'speech' | 'dtmf'; readonly text: string; readonly confidence: number };
}

/** Produces the agent's reply as a stream; stops promptly when the signal aborts. */
export interface Responder {
  readonly name: string;
  respond(input: ResponderInput, signal: AbortSignal): AsyncIterable<ResponderChunk>;
}

/** Text to PCM16 mono little-endian at the requested rate. */
export interface Synthesizer {
  /** Identifies engine + voice, part of the TTS cache key. */
  readonly id: string;
  synthesize(text: string, sampleRate: number, signal: AbortSignal): Promise<Int16Array>;
  /**
   * Optional: the sentences about to be synthesized, known together. A cached synthesizer looks
   * them up at once (one cache round trip) so that synthesize() finds the answers waiting.
   */
  prefetch?(texts: readonly string[], sampleRate: number): void;
}

/** A dependency that /readyz checks. */
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when healthy; rejects (or resolves 'degraded') otherwise. */
  check(): Promise<'ok' | 'degraded'>;
}

/** An ACS callback event after authentication, addressed to one call. */
export interface CallbackEnvelope {
  readonly callId: string;
  /** CloudEvent id (de-duplication key). */
  readonly id: string;
  /** Short type without the Microsoft.Communication. prefix, e.g. CallConnected. */
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly time: string | null;
}

/**
 * Routes callbacks between replicas: the replica that owns a call (holds its media socket) gets its
 * events. Memory implementation: single replica, holds events until the call is local.
 */
export interface EventRouter {
  /** Subscribes this replica; `deliver` receives events forwarded to it. */
  start(deliver: (env: CallbackEnvelope) => void): Promise<void>;
  /** Sends to the call's owner, or holds it (bounded, TTL) while no owner is known. */
  forward(env: CallbackEnvelope): Promise<'forwarded' | 'held'>;
  /** The caller just became the owner of callId: returns held events, oldest first, and forgets them. */
  takeHeld(callId: string): Promise<CallbackEnvelope[]>;
  /** Parks an event forwarded here for a call this replica does not hold (owner moved): held, or sent on. */
  hold?(env: CallbackEnvelope): Promise<'forwarded' | 'held'>;
  stop(): Promise<void>;
}
