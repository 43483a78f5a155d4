// Profile PINs as salted hashes: never in clear, different on every hash, verified in constant time,
// and a caller verifies against the hash through the responder.
import { describe, expect, it } from 'vitest';
import { hashPin, isPinHash, verifyPin } from '../../src/domain/caller-pin.js';
import { LINES } from '../../src/adapters/responder/local-responder.js';
import { harness, keypad, say } from '../support/convo-harness.js';

describe('caller PIN hashing', () => {
  it('hashes with a fresh salt (no two hashes alike, no PIN inside) and verifies only the right PIN', async () => {
    const a = await hashPin('4321');
    const b = await hashPin('4321');
    expect(isPinHash(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).not.toContain('4321');
    expect(await verifyPin('4321', a)).toBe(true);
    expect(await verifyPin('4321#', b)).toBe(true);
    expect(await verifyPin('1234', a)).toBe(false);
    expect(await verifyPin('4321', '4321')).toBe(false);
  });

  it('a caller verifies against the hash in the auth state', async () => {
    const h = harness();
    const { call } = h.newCall();
    await h.conversations.updateContext(call.callId, { profile: { name: 'Alice', hasPin: true, accountBalance: 42.5 } });
    await h.sessions.putAuthState(call.callId, { secret: 's', callerVerified: false, failedAttempts: 0, pinHash: await hashPin('4321') });
    say(call, 'What is my balance?');
    await h.untilTurns(call.callId, 2);
    keypad(call, '4321#');
    const hist = await h.untilTurns(call.callId, 4);
    expect(hist[3]?.text).toBe(`${LINES.verified} Your account balance is $42.50.`);
    expect(JSON.stringify(hist)).not.toContain('4321');
  });
});
