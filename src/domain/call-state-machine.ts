// The phases of one call and the only moves between them. Pure: no timers, no I/O. An illegal move
// is reported to the observer and ignored; it never throws (a late or reordered ACS event must not
// break the request that carried it).
import type { CallPhase } from './call-records.js';

/** Legal next phases. `streaming → connected` covers MediaStreamingStopped followed by a restart. */
const LEGAL: Readonly<Record<CallPhase, readonly CallPhase[]>> = Object.freeze({
  ringing: ['answering', 'disconnecting', 'ended'],
  answering: ['connected', 'disconnecting', 'ended'],
  connected: ['streaming', 'disconnecting', 'ended'],
  streaming: ['connected', 'disconnecting', 'ended'],
  disconnecting: ['ended'],
  ended: [],
});

export const CALL_PHASES: readonly CallPhase[] = Object.freeze(Object.keys(LEGAL) as CallPhase[]);

export function isLegalTransition(from: CallPhase, to: CallPhase): boolean {
  return LEGAL[from].includes(to);
}

export interface TransitionObserver {
  transition?(from: CallPhase, to: CallPhase, reason: string): void;
  illegal?(from: CallPhase, to: CallPhase, reason: string): void;
}

export class CallStateMachine {
  #phase: CallPhase;

  constructor(
    initial: CallPhase,
    private readonly observer: TransitionObserver = {},
  ) {
    this.#phase = initial;
  }

  get phase(): CallPhase {
    return this.#phase;
  }

  get ended(): boolean {
    return this.#phase === 'ended';
  }

  /** Moves to `to` when legal; returns false (and reports) otherwise. Moving to the current phase is a no-op. */
  to(to: CallPhase, reason: string): boolean {
    const from = this.#phase;
    if (from === to) return false;
    if (!isLegalTransition(from, to)) {
      this.observer.illegal?.(from, to, reason);
      return false;
    }
    this.#phase = to;
    this.observer.transition?.(from, to, reason);
    return true;
  }
}

/** What an ACS callback type means for the phase, if anything. */
export function phaseForCallback(type: string): CallPhase | null {
  switch (type) {
    case 'CallConnected':
      return 'connected';
    case 'MediaStreamingStarted':
      return 'streaming';
    case 'MediaStreamingStopped':
      return 'connected';
    case 'CallDisconnected':
    case 'AnswerFailed':
    case 'CreateCallFailed':
      return 'ended';
    default:
      return null;
  }
}

/** The callback types the edge understands; anything else is accepted, counted and ignored. */
export const KNOWN_CALLBACK_TYPES: ReadonlySet<string> = new Set([
  'CallConnected',
  'CallDisconnected',
  'AnswerFailed',
  'CreateCallFailed',
  'ParticipantsUpdated',
  'MediaStreamingStarted',
  'MediaStreamingStopped',
  'MediaStreamingFailed',
  'TranscriptionStarted',
  'TranscriptionStopped',
  'TranscriptionUpdated',
  'TranscriptionFailed',
  'PlayStarted',
  'PlayCompleted',
  'PlayFailed',
  'PlayCanceled',
  'RecognizeCompleted',
  'RecognizeFailed',
  'RecognizeCanceled',
  'CallTransferAccepted',
  'CallTransferFailed',
]);
