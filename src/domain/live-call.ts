// One live call in process memory: identity, the event hub its components meet on, and the
// attachment points each component fills in. Built once per call with every field set.
import type { CallPhase } from './call-records.js';
import { CallEvents, type MediaOutlet } from './call-events.js';

/** Logger shape the domain needs (pino-compatible, without importing pino). */
export interface DomainLogger {
  child(bindings: Record<string, unknown>): DomainLogger;
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface LiveCallInit {
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly correlationId: string | null;
  readonly startedAt: number;
  readonly log: DomainLogger;
  /** The caller's raw ACS identifier (in memory only; null when unknown, e.g. a resumed call). */
  readonly callerRawId?: string | null;
}

export class LiveCall {
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly startedAt: number;
  readonly log: DomainLogger;
  readonly events: CallEvents;
  /** The caller's raw ACS identifier: only this participant's input drives turns and barge-in. */
  readonly callerRawId: string | null;
  correlationId: string | null;
  callConnectionId: string | null = null;
  serverCallId: string | null = null;
  phase: CallPhase = 'ringing';
  /** Set by the media path while a socket is attached. */
  media: MediaOutlet | null = null;
  /** Aborted on barge-in or hang-up; the turn pipeline replaces it per turn. */
  turnAbort: AbortController = new AbortController();
  /** Next conversation turn sequence number. */
  nextSeq = 1;
  /** The call's tenant, resolved at admission (null: not known, e.g. admitted without slots). */
  tenantId: string | null = null;
  /** Inbound (answered) or outbound (placed by a campaign). */
  direction: 'inbound' | 'outbound' = 'inbound';
  /** A transfer to a human is being announced or awaits ACS's answer: caller input starts no turn. */
  transferPending = false;
  /** Set by a speech-to-speech bridge: every caller frame (PCM16 at the stream rate, valid only during the call). */
  inputTap: ((pcm: Int16Array) => void) | null = null;
  /** Set by the media path: confirms a barge-in (stopAudio, drop the queued reply, report bargeIn). */
  requestBargeIn: ((cause: 'vad' | 'transcript' | 'dtmf') => void) | null = null;

  constructor(init: LiveCallInit) {
    this.callId = init.callId;
    this.from = init.from;
    this.to = init.to;
    this.correlationId = init.correlationId;
    this.startedAt = init.startedAt;
    this.log = init.log;
    this.callerRawId = init.callerRawId ?? null;
    this.events = new CallEvents((err, event) => this.log.error({ err, event }, 'call event listener failed'));
  }

  /** Cancels the turn in progress (barge-in, hang-up) and arms a fresh controller. */
  interruptTurn(reason: string): void {
    if (!this.turnAbort.signal.aborted) this.turnAbort.abort(new Error(reason));
    this.turnAbort = new AbortController();
  }
}

/** The calls this replica holds. Lookup by our call id or by the ACS call connection id. */
export class CallRegistry {
  readonly #byId = new Map<string, LiveCall>();
  readonly #byConnection = new Map<string, LiveCall>();
  readonly #onRemove: ((call: LiveCall) => void)[] = [];

  /** Runs when a call leaves the registry (finalized or handed over): drop what was kept for it. */
  onRemove(fn: (call: LiveCall) => void): void {
    this.#onRemove.push(fn);
  }

  add(call: LiveCall): void {
    this.#byId.set(call.callId, call);
    if (call.callConnectionId) this.#byConnection.set(call.callConnectionId, call);
  }

  /** Records the ACS call connection id once answer() returns. */
  bindConnection(call: LiveCall, callConnectionId: string): void {
    call.callConnectionId = callConnectionId;
    this.#byConnection.set(callConnectionId, call);
  }

  get(callId: string): LiveCall | undefined {
    return this.#byId.get(callId);
  }

  byConnection(callConnectionId: string): LiveCall | undefined {
    return this.#byConnection.get(callConnectionId);
  }

  remove(call: LiveCall): void {
    if (this.#byId.get(call.callId) !== call) return;
    this.#byId.delete(call.callId);
    if (call.callConnectionId) this.#byConnection.delete(call.callConnectionId);
    for (const fn of this.#onRemove) {
      try {
        fn(call);
      } catch (err) {
        call.log.error({ err }, 'call registry remove hook failed');
      }
    }
  }

  get size(): number {
    return this.#byId.size;
  }

  values(): IterableIterator<LiveCall> {
    return this.#byId.values();
  }
}
