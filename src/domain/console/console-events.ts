// What the operator console is told about calls: views and events built from a LiveCall, with the
// caller masked and digits kept out. Nothing here carries a phone number, a PIN or a DTMF tone:
// the caller id is cut to its kind and last characters, keypad turns arrive already masked
// (`[dtmf ****]`, turn-policy.ts) and any run of three or more digits in a turn is masked again
// (a caller may speak a PIN or a card number).
import type { CallOutcome, CallPhase } from '../call-records.js';
import type { Speaker, Turn } from '../conversation.js';

export type Speaking = 'caller' | 'agent' | null;

/** One live call as the console shows it. */
export interface ConsoleCallView {
  readonly callId: string;
  /** Masked: `+•••12` for a phone number, `acs:…a1b2` for an ACS user. */
  readonly caller: string;
  readonly state: CallPhase;
  readonly startedAt: number;
  /** The replica holding the call's media socket (or answering it). */
  readonly owner: string;
  readonly speaking: Speaking;
  readonly turns: number;
  /** When this view was written (readers drop views of a replica that stopped refreshing). */
  readonly updatedAt: number;
}

export interface ConsoleTurn {
  readonly seq: number;
  readonly speaker: Speaker;
  readonly text: string;
  readonly at: number;
  readonly kind?: 'speech' | 'dtmf';
  readonly interrupted?: boolean;
}

export type ConsoleEvent =
  | { readonly type: 'call'; readonly call: ConsoleCallView }
  | { readonly type: 'turn'; readonly callId: string; readonly turn: ConsoleTurn }
  | { readonly type: 'speaking'; readonly callId: string; readonly who: Speaking }
  | { readonly type: 'barge-in'; readonly callId: string; readonly at: number; readonly playedMs: number }
  | { readonly type: 'ended'; readonly callId: string; readonly outcome: CallOutcome; readonly durationMs: number; readonly owner: string };

/** A caller id the console may show: the kind and the last characters, never the number. */
export function maskCaller(id: string): string {
  if (id.startsWith('4:') || /^\+?\d[\d\s*•-]*$/.test(id)) {
    const digits = id.replace(/\D/g, '');
    return `+•••${digits.slice(-2)}`;
  }
  const m = /^(\d+):(acs|teams|spool|orgid|gcch|dod)?:?/.exec(id);
  const kind = m ? (m[2] ?? `id${m[1]}`) : 'id';
  const tail = id.replace(/[^A-Za-z0-9]/g, '').slice(-4);
  return `${kind}:…${tail}`;
}

const DIGIT_RUN = /\d(?:[\s.-]?\d){2,}/g;

/** Turn text for the console: runs of 3+ digits (a spoken PIN, a number) become bullets. */
export function maskTurnText(text: string): string {
  return text.replace(DIGIT_RUN, (run) => '•'.repeat(run.replace(/\D/g, '').length));
}

export function consoleTurn(turn: Turn): ConsoleTurn {
  // Keypad turns are stored masked already; anything else under kind 'dtmf' shows no digit at all.
  const text = turn.kind === 'dtmf' ? (/^\[dtmf \*+\]$/.test(turn.text) ? turn.text : '[dtmf]') : maskTurnText(turn.text);
  return {
    seq: turn.seq,
    speaker: turn.speaker,
    text,
    at: turn.at,
    ...(turn.kind ? { kind: turn.kind } : {}),
    ...(turn.interrupted ? { interrupted: true } : {}),
  };
}
