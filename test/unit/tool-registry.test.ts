// The tool registry (domain/tools): bounded, never throwing, secrets masked in what is kept; the
// built-ins against the memory session store (verify_pin checks the hashed PIN, lookup_caller never
// returns the PIN or its hash).
import { describe, expect, it } from 'vitest';
import { ToolRegistry, type ToolDefinition } from '../../src/domain/tools/tool-registry.js';
import { builtinTools, type ToolAction } from '../../src/domain/tools/builtin-tools.js';
import { hashPin } from '../../src/domain/caller-pin.js';
import { emptyConversation } from '../../src/domain/conversation.js';
import type { CallAuthState } from '../../src/domain/call-records.js';

const ctx = (context: Record<string, unknown> = {}) => ({ callId: 'c1', state: { ...emptyConversation('c1'), context } });
const slow: ToolDefinition = { name: 'slow', description: '', parameters: {}, run: () => new Promise(() => undefined) };
const boom: ToolDefinition = { name: 'boom', description: '', parameters: {}, run: async () => Promise.reject(new Error('backend down')) };

function authStore(initial: CallAuthState | null) {
  let auth = initial;
  return { getAuthState: async () => auth, putAuthState: async (_id: string, a: CallAuthState) => void (auth = a), get: () => auth };
}

describe('tool registry', () => {
  it('answers a slow, failing, unknown or malformed call with an error object, never a throw', async () => {
    const r = new ToolRegistry([slow, boom], 50);
    expect(await r.call('slow', '{}', ctx())).toMatchObject({ ok: false, output: JSON.stringify({ error: 'timed out after 50 ms' }) });
    expect(await r.call('boom', '{}', ctx())).toMatchObject({ ok: false, output: JSON.stringify({ error: 'backend down' }) });
    expect((await r.call('nope', '{}', ctx())).output).toContain("unknown tool 'nope'");
    expect((await r.call('boom', '{not json', ctx())).output).toContain('not valid JSON');
    expect(r.definitions().map((d) => d.type)).toEqual(['function', 'function']);
  });

  it('verify_pin: checks the hashed PIN, marks the caller verified, never keeps the digits', async () => {
    const store = authStore({ secret: 's', callerVerified: false, failedAttempts: 0, pinHash: await hashPin('4321') });
    const r = new ToolRegistry(builtinTools({ sessions: store, act: () => undefined }), 5000);
    const wrong = await r.call('verify_pin', '{"pin":"1111"}', ctx());
    expect(JSON.parse(wrong.output)).toEqual({ verified: false, attemptsLeft: 2 });
    expect(wrong.record).not.toContain('1111');
    const right = await r.call('verify_pin', '{"pin":"4 3 2 1"}', ctx());
    expect(JSON.parse(right.output)).toEqual({ verified: true });
    expect(right.record).toBe('verify_pin({"pin":"***"}) -> {"verified":true}');
    expect(store.get()?.callerVerified).toBe(true);
  });

  it('lookup_caller: the name always, the balance only once verified, never the PIN hash', async () => {
    const store = authStore({ secret: 's', callerVerified: false, failedAttempts: 0 });
    const r = new ToolRegistry(builtinTools({ sessions: store, act: () => undefined }), 5000);
    const profile = { id: 'p', name: 'Ada', accountBalance: 120.5, pinHash: 'scrypt$x' };
    expect(JSON.parse((await r.call('lookup_caller', '', ctx({ profile }))).output)).toEqual({ found: true, name: 'Ada', verified: false });
    await store.putAuthState('c1', { ...(store.get() as CallAuthState), callerVerified: true });
    const out = (await r.call('lookup_caller', '{}', ctx({ profile }))).output;
    expect(JSON.parse(out)).toEqual({ found: true, name: 'Ada', verified: true, accountBalance: 120.5 });
    expect(out).not.toContain('scrypt');
  });

  it('end_call and transfer_to_agent hand the action to the call', async () => {
    const acts: [string, ToolAction][] = [];
    const r = new ToolRegistry(builtinTools({ sessions: authStore(null), act: (id, a) => void acts.push([id, a]) }), 5000);
    await r.call('end_call', '{}', ctx());
    await r.call('transfer_to_agent', '{"reason":"billing"}', ctx());
    expect(acts).toEqual([['c1', 'hangup'], ['c1', 'transfer']]);
  });
});
