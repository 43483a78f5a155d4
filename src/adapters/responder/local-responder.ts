// A deterministic rule-based agent: greets by name, answers opening hours, gives the account balance
// only after a DTMF PIN check (auth state in the session store), transfers, repeats, says goodbye,
// and asks again when the transcription is unsure. Slots live in the conversation context.
import { pinMatchesDigest, verifyPin } from '../../domain/caller-pin.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { CallAuthState } from '../../domain/call-records.js';
import type { Responder, ResponderChunk, ResponderInput, SessionStore } from '../../domain/ports.js';
import { NO_AGENT_LINE, TRANSFER_FAILED_LINE, TRANSFERRING_LINE } from '../../domain/call-transfer.js';

export const DEMO_PIN = '1234';
export const MAX_PIN_ATTEMPTS = 3;
/** Keypad input that asks for an agent: 0 then the pound key (keypad input ends with #, as the PIN does). */
export const AGENT_DTMF = '0';
const LOW_CONFIDENCE = 0.5;

type Intent = 'hours' | 'balance' | 'transfer' | 'repeat' | 'goodbye' | 'help';

const INTENTS: readonly [Intent, RegExp][] = [
  ['goodbye', /\b(good ?bye|bye|that'?s all|hang up|nothing else)\b/i],
  ['repeat', /\b(repeat|say (that|it) again|pardon|come again)\b/i],
  ['transfer', /\b(agent|human|person|representative|operator|transfer)\b/i],
  ['balance', /\b(balance|how much (money|do i have)|my account)\b/i],
  ['hours', /\b(hours?|open|opening|close|closing)\b/i],
];

export const LINES = {
  hours: 'We are open Monday to Friday from 8 AM to 6 PM, and Saturday from 9 AM to 1 PM.',
  askPin: 'For your security, please enter your PIN on the keypad, followed by the pound key.',
  verified: 'Thank you, you are verified.',
  wrongPin: "That PIN didn't match. Please try again, followed by the pound key.",
  locked: "Sorry, that PIN didn't match again. For your security I can't give account details on this call. I can connect you to an agent.",
  noPending: 'Thanks. What can I help you with?',
  // Spoken by the transfer itself (call-transfer.ts), listed here so the TTS warm-up caches them.
  transfer: TRANSFERRING_LINE,
  noAgent: NO_AGENT_LINE,
  transferFailed: TRANSFER_FAILED_LINE,
  nothingToRepeat: "I haven't said anything yet. How can I help you?",
  goodbye: 'Thank you for calling. Goodbye!',
  lowConfidence: "Sorry, I didn't quite catch that. Could you please repeat it?",
  help: 'I can tell you our opening hours, give you your account balance, or connect you to an agent. What would you like?',
} as const;

function formatMoney(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function pinMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function classify(text: string): Intent {
  for (const [intent, re] of INTENTS) if (re.test(text)) return intent;
  return 'help';
}

export class LocalResponder implements Responder {
  readonly name = 'local';

  constructor(private readonly deps: { sessions: SessionStore }) {}

  async *respond(input: ResponderInput, signal: AbortSignal): AsyncIterable<ResponderChunk> {
    signal.throwIfAborted();
    const { state } = input;
    const ctx = state.context;
    const known = typeof ctx['profile'] === 'object' && ctx['profile'] !== null;
    const profile = (ctx['profile'] ?? {}) as { name?: unknown; accountBalance?: unknown };
    const name = typeof profile.name === 'string' && profile.name.trim() ? profile.name.trim() : null;
    const turnsHandled = typeof ctx['turnsHandled'] === 'number' ? ctx['turnsHandled'] : 0;

    // An empty speech input opens the call: the greeting.
    if (input.input.kind === 'speech' && input.input.text === '') {
      yield { type: 'context', patch: { greeted: true } };
      yield { type: 'text', text: name ? `Hello ${name}, thanks for calling. ` : 'Hello, thanks for calling. ' };
      yield { type: 'text', text: 'How can I help you today?' };
      return;
    }

    if (input.input.kind === 'dtmf' && input.input.text === AGENT_DTMF) {
      yield* transferToAgent();
      return;
    }
    if (input.input.kind === 'dtmf') {
      yield* this.#verifyPin(input, known, profile.accountBalance, ctx['pendingIntent']);
      return;
    }

    if (input.input.confidence < LOW_CONFIDENCE) {
      yield { type: 'context', patch: { lowConfidenceCount: (Number(ctx['lowConfidenceCount']) || 0) + 1 } };
      yield { type: 'text', text: LINES.lowConfidence };
      return;
    }

    const intent = classify(input.input.text);
    yield { type: 'context', patch: { lastIntent: intent, turnsHandled: turnsHandled + 1 } };
    switch (intent) {
      case 'hours':
        yield { type: 'text', text: LINES.hours };
        return;
      case 'balance': {
        const auth = await this.deps.sessions.getAuthState(input.callId);
        signal.throwIfAborted();
        if (auth?.callerVerified) {
          yield { type: 'text', text: balanceLine(profile.accountBalance) };
        } else if ((auth?.failedAttempts ?? 0) >= MAX_PIN_ATTEMPTS) {
          yield { type: 'text', text: LINES.locked };
        } else {
          yield { type: 'context', patch: { pendingIntent: 'balance' } };
          yield { type: 'text', text: LINES.askPin };
        }
        return;
      }
      case 'transfer':
        yield* transferToAgent();
        return;
      case 'repeat': {
        const last = [...state.history].reverse().find((t) => t.speaker === 'assistant' && t.text.trim().length > 0);
        yield { type: 'text', text: last ? last.text : LINES.nothingToRepeat };
        return;
      }
      case 'goodbye':
        yield { type: 'text', text: name ? `Thank you for calling, ${name}. Goodbye!` : LINES.goodbye };
        yield { type: 'action', action: 'hangup' };
        return;
      default:
        yield { type: 'text', text: LINES.help };
    }
  }

  /**
   * The PIN is checked against the digest in the call's auth state (set from the caller's profile).
   * A known caller without a PIN on file cannot verify; an unknown caller (no profile) may use the
   * demo PIN, which unlocks only the demo balance.
   */
  async *#verifyPin(input: ResponderInput, knownCaller: boolean, balance: unknown, pending: unknown): AsyncIterable<ResponderChunk> {
    const { sessions } = this.deps;
    const prior = await sessions.getAuthState(input.callId);
    const auth: CallAuthState = prior ?? { secret: randomBytes(18).toString('base64url'), callerVerified: false, failedAttempts: 0 };
    if (auth.callerVerified) {
      yield { type: 'text', text: pending === 'balance' ? balanceLine(balance) : LINES.noPending };
      if (pending) yield { type: 'context', patch: { pendingIntent: null } };
      return;
    }
    if (auth.failedAttempts >= MAX_PIN_ATTEMPTS) {
      yield { type: 'text', text: LINES.locked };
      return;
    }
    const entered = input.input.text;
    const ok = auth.pinHash
      ? await verifyPin(entered, auth.pinHash)
      : auth.pinDigest
        ? pinMatchesDigest(input.callId, entered, auth.pinDigest)
        : !knownCaller && pinMatches(entered, DEMO_PIN);
    if (ok) {
      await sessions.putAuthState(input.callId, { ...auth, callerVerified: true });
      yield { type: 'context', patch: { verified: true, pendingIntent: null } };
      yield { type: 'text', text: `${LINES.verified} ` };
      yield { type: 'text', text: pending === 'balance' ? balanceLine(balance) : 'What can I help you with?' };
      return;
    }
    const failedAttempts = auth.failedAttempts + 1;
    await sessions.putAuthState(input.callId, { ...auth, failedAttempts });
    yield { type: 'text', text: failedAttempts >= MAX_PIN_ATTEMPTS ? LINES.locked : LINES.wrongPin };
  }
}

/** The transfer says its own line (transferring, or no agent available) once it knows whether there is a target. */
function* transferToAgent(): Iterable<ResponderChunk> {
  yield { type: 'context', patch: { transferRequested: true } };
  yield { type: 'action', action: 'transfer' };
}

function balanceLine(balance: unknown): string {
  const n = typeof balance === 'number' && Number.isFinite(balance) ? balance : 1250.75;
  return `Your account balance is ${formatMoney(n)}.`;
}
