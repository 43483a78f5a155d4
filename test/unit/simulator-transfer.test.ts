// The simulator's transferToParticipant (sim-transfer.ts): 202 with the operationContext echoed, a
// bad body 400, an unknown call 404; then CallTransferAccepted followed by our leg's end, or
// CallTransferFailed with resultInformation and the call left up.
import { describe, expect, it } from 'vitest';
import { CallControl } from '../../src/simulator/call-control.js';
import { newSimCall, phoneIdentifier, type SimCall } from '../../src/simulator/sim-call.js';
import { TRANSFER_FAILED, TransferDesk } from '../../src/simulator/sim-transfer.js';

function fakeCall(): SimCall {
  const now = performance.now();
  return newSimCall({ index: 0, scenario: 'transfer', incomingCallContext: `ctx-${Math.random()}`, contextExpiresAt: now + 10_000, serverCallId: 'srv-1', correlationId: 'corr-1', caller: phoneIdentifier('+14255550100'), callee: phoneIdentifier('+18005550100'), offeredAt: now });
}

const target = { kind: 'phoneNumber', rawId: '4:+14255550123', phoneNumber: { value: '+14255550123' } };

describe('simulated transferToParticipant', () => {
  it('answers 202 (operationContext echoed), 400 without a target, 404 for an unknown call', async () => {
    const cc = new CallControl('res');
    const requested: unknown[] = [];
    const call = fakeCall();
    const s = { call, answered: () => undefined, hungUp: () => undefined, mediaOperation: () => undefined, transferRequested: (b: unknown) => void requested.push(b) };
    cc.offer(s);
    cc.answer({ incomingCallContext: call.incomingCallContext, callbackUri: 'http://127.0.0.1:1/cb' });
    const id = call.callConnectionId as string;
    expect(cc.mediaOperation(id, 'transferToParticipant', { targetParticipant: target, operationContext: 'op-1' })).toEqual({ status: 202, body: { operationContext: 'op-1' } });
    expect(cc.mediaOperation(id, 'transferToParticipant', { operationContext: 'op-2' }).status).toBe(400);
    expect(cc.mediaOperation('nope', 'transferToParticipant', { targetParticipant: target }).status).toBe(404);
    await new Promise((r) => setImmediate(r));
    expect(requested).toHaveLength(1);
  });

  it('accept: CallTransferAccepted (transferee, transferTarget) then our leg ends; fail: CallTransferFailed and nothing ends', async () => {
    for (const answer of ['accept', 'fail'] as const) {
      const call = fakeCall();
      const desk = new TransferDesk(call);
      desk.answer = answer;
      const sent: { type: string; data: Record<string, unknown>; ctx: string | undefined; code: number }[] = [];
      let legEnded = false;
      const waited = desk.wait(1000);
      desk.requested({ targetParticipant: target, transferee: call.caller, operationContext: 'op-1' }, async (type, data, ctx, result) => void sent.push({ type, data, ctx, code: result.code }), () => (legEnded = true));
      expect(await waited).toBeTypeOf('number');
      await new Promise((r) => setTimeout(r, 300));
      expect(call.transferRequests).toMatchObject([{ targetRawId: '4:+14255550123', transfereeRawId: call.caller.rawId, operationContext: 'op-1', answer }]);
      if (answer === 'accept') {
        expect(sent).toEqual([{ type: 'CallTransferAccepted', data: { transferee: call.caller, transferTarget: target }, ctx: 'op-1', code: 200 }]);
        expect(legEnded).toBe(true);
      } else {
        expect(sent).toEqual([{ type: 'CallTransferFailed', data: {}, ctx: 'op-1', code: TRANSFER_FAILED.code }]);
        expect(legEnded).toBe(false);
      }
      desk.dispose();
    }
  });
});
