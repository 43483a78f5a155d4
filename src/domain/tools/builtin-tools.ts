// The built-in tools: lookup_caller (the caller's profile as the conversation context holds it,
// never the PIN or its hash), verify_pin (checks spoken or keyed digits against the hashed PIN in the
// call's authentication state; the model never sees the hash and the digits are never stored),
// transfer_to_agent and end_call (the agent's actions, carried out by the caller of the registry once
// the current reply has been played).
import { pinMatchesDigest, verifyPin } from '../caller-pin.js';
import type { SessionStore } from '../ports.js';
import type { ToolDefinition } from './tool-registry.js';

/** What a tool asked the call to do after the reply. */
export type ToolAction = 'hangup' | 'transfer';

export interface BuiltinToolDeps {
  readonly sessions: Pick<SessionStore, 'getAuthState' | 'putAuthState'>;
  /** The call's pending action (end_call, transfer_to_agent). */
  readonly act: (callId: string, action: ToolAction, detail: Readonly<Record<string, unknown>>) => void;
}

const MAX_PIN_ATTEMPTS = 3;

export function builtinTools(deps: BuiltinToolDeps): ToolDefinition[] {
  return [
    {
      name: 'lookup_caller',
      description: "The caller's profile: name, account balance, whether they are verified. Balances only for a verified caller.",
      parameters: { type: 'object', properties: {}, additionalProperties: false },
      async run(_args, ctx) {
        const profile = (ctx.state.context['profile'] ?? null) as Record<string, unknown> | null;
        const auth = await deps.sessions.getAuthState(ctx.callId);
        const verified = auth?.callerVerified === true || ctx.state.context['verified'] === true;
        if (!profile) return { found: false, verified };
        return { found: true, name: typeof profile.name === 'string' ? profile.name : null, verified, ...(verified && typeof profile.accountBalance === 'number' ? { accountBalance: profile.accountBalance } : {}) };
      },
    },
    {
      name: 'verify_pin',
      description: 'Checks the PIN the caller said or typed. Answers only whether it matched.',
      parameters: { type: 'object', properties: { pin: { type: 'string', description: 'the digits, e.g. "1234"' } }, required: ['pin'], additionalProperties: false },
      secretArgs: ['pin'],
      async run(args, ctx) {
        const pin = String(args.pin ?? '').replace(/\D/g, '');
        const auth = await deps.sessions.getAuthState(ctx.callId);
        if (!auth || (!auth.pinHash && !auth.pinDigest)) return { verified: false, reason: 'no PIN on file' };
        if (auth.callerVerified) return { verified: true };
        if (auth.failedAttempts >= MAX_PIN_ATTEMPTS) return { verified: false, reason: 'too many attempts' };
        const ok = auth.pinHash ? await verifyPin(pin, auth.pinHash) : pinMatchesDigest(ctx.callId, pin, auth.pinDigest as string);
        await deps.sessions.putAuthState(ctx.callId, ok ? { ...auth, callerVerified: true } : { ...auth, failedAttempts: auth.failedAttempts + 1 });
        return ok ? { verified: true } : { verified: false, attemptsLeft: MAX_PIN_ATTEMPTS - auth.failedAttempts - 1 };
      },
    },
    {
      name: 'transfer_to_agent',
      description: 'Transfers the caller to a human agent after telling them so.',
      parameters: { type: 'object', properties: { reason: { type: 'string' } }, additionalProperties: false },
      async run(args, ctx) {
        deps.act(ctx.callId, 'transfer', { reason: typeof args.reason === 'string' ? args.reason : null });
        return { status: 'transfer requested; tell the caller you are transferring them' };
      },
    },
    {
      name: 'end_call',
      description: 'Ends the call after your goodbye has been played.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
      async run(_args, ctx) {
        deps.act(ctx.callId, 'hangup', {});
        return { status: 'the call ends after your next reply; say goodbye' };
      },
    },
  ];
}
