import { describe, expect, it } from 'vitest';
import { CallControl, type CallSession } from '../../src/simulator/call-control.js';
import { newSimCall, phoneIdentifier, type SimCall } from '../../src/simulator/sim-call.js';

function fakeCall(expiresInMs: number): SimCall {
  const now = performance.now();
  return newSimCall({
    index: 0,
    scenario: 'qa',
    incomingCallContext: `ctx-${Math.random()}`,
    contextExpiresAt: now + expiresInMs,
    serverCallId: 'server-call-id-0001',
    correlationId: 'corr-1',
    caller: phoneIdentifier('+14255550100'),
    callee: phoneIdentifier('+18005550100'),
    offeredAt: now,
  });
}

function session(call: SimCall): CallSession & { events: string[] } {
  const events: string[] = [];
  return { call, events, answered: () => events.push('answered'), hungUp: (how) => events.push(`hungUp:${how}`), mediaOperation: (op) => events.push(op) };
}

const body = (ctx: string, extra: Record<string, unknown> = {}) => ({ incomingCallContext: ctx, callbackUri: 'http://127.0.0.1:1/cb', ...extra });

describe('simulated call control', () => {
  it('answers a known context once and refuses a second answer', async () => {
    const cc = new CallControl('res');
    const s = session(fakeCall(10_000));
    cc.offer(s);
    const first = cc.answer(body(s.call.incomingCallContext));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ callConnectionId: s.call.callConnectionId, serverCallId: 'server-call-id-0001', correlationId: 'corr-1', callConnectionState: 'connecting' });
    const second = cc.answer(body(s.call.incomingCallContext));
    expect(second.status).toBe(400);
    expect(s.call.answers).toBe(1);
    expect(s.call.answerRequests).toBe(2);
    expect(s.call.violations).toEqual(['answer for an already answered call']);
    await new Promise((r) => setImmediate(r));
    expect(s.events).toEqual(['answered']);
  });

  it('refuses unknown and expired contexts, and bad callback or transport URLs', () => {
    const cc = new CallControl('res');
    const expired = session(fakeCall(-1));
    cc.offer(expired);
    expect(cc.answer(body('nope')).status).toBe(400);
    expect(cc.answer(body(expired.call.incomingCallContext)).status).toBe(400);
    expect(expired.call.answers).toBe(0);
    const live = session(fakeCall(10_000));
    cc.offer(live);
    expect(cc.answer({ incomingCallContext: live.call.incomingCallContext, callbackUri: 'ftp://x' }).status).toBe(400);
    expect(cc.answer(body(live.call.incomingCallContext, { mediaStreamingOptions: { transportUrl: 'http://not-ws' } })).status).toBe(400);
    expect(live.call.answers).toBe(0);
  });

  it('routes hang-up and media operations to a live call and 404s a finished one', async () => {
    const cc = new CallControl('res');
    const s = session(fakeCall(10_000));
    cc.offer(s);
    cc.answer(body(s.call.incomingCallContext));
    const id = s.call.callConnectionId as string;
    expect(cc.mediaOperation(id, 'play', { playSources: [{ kind: 'text', text: { text: 'hi' } }], operationContext: 'p' }).status).toBe(202);
    expect(cc.mediaOperation(id, 'play', { playSources: [] }).status).toBe(400);
    expect(cc.mediaOperation(id, 'teleport', {}).status).toBe(404);
    expect(cc.hangUp(id, 'terminate').status).toBe(204);
    await new Promise((r) => setImmediate(r));
    expect(s.events).toEqual(['answered', 'play', 'hungUp:terminate']);
    expect(s.call.playRequests).toHaveLength(1);
    s.call.state = 'disconnected';
    expect(cc.get(id).status).toBe(404);
    expect(cc.hangUp(id, 'delete').status).toBe(404);
  });
});
