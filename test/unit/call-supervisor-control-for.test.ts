import { describe, expect, it } from 'vitest';
import { CallSupervisor } from '../../src/domain/call-lifecycle.js';
import { CallRegistry, LiveCall } from '../../src/domain/live-call.js';
import type { CallOutcome } from '../../src/domain/call-records.js';
import { MemoryCallControl } from '../../src/adapters/memory/memory-call-control.js';
import { silentLogger } from '../../src/logger.js';

const CFG = { answerTimeoutMs: 60_000, mediaConnectTimeoutMs: 60_000, maxDurationMs: 60_000, mediaReconnectGraceMs: 500 };

function setup() {
  const control = new MemoryCallControl();
  const registry = new CallRegistry();
  const sup = new CallSupervisor({ control, registry, leases: { drop: async () => undefined }, now: () => Date.now() }, CFG);
  const finalized: CallOutcome[] = [];
  sup.onFinalize(async (_call, outcome) => void finalized.push(outcome));
  const call = new LiveCall({ callId: 'c1', from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log: silentLogger() });
  const ctl = sup.attach(call);
  ctl.answering();
  registry.bindConnection(call, 'conn-1');
  return { control, sup, ctl, finalized };
}

describe('CallSupervisor.controlFor', () => {
  it("routes the call's own hang-up through its controller: one hang-up, finalized as agent-hangup", async () => {
    const { control, sup, ctl, finalized } = setup();
    await sup.controlFor('c1').hangUp('conn-1', 'agent-hangup');
    expect(control.ops.filter((o) => o.op === 'hangUp')).toEqual([{ op: 'hangUp', callConnectionId: 'conn-1', operationContext: 'c1' }]);
    expect(finalized).toEqual(['agent-hangup']);
    // The CallDisconnected that follows is late and changes nothing.
    ctl.handleCallback({ callId: 'c1', id: 'e1', type: 'CallDisconnected', data: {}, time: null });
    expect(finalized).toEqual(['agent-hangup']);
    ctl.dispose();
  });

  it('passes other operations straight through, and a hang-up of a call no longer supervised', async () => {
    const { control, sup, ctl } = setup();
    const port = sup.controlFor('c1');
    await port.cancelMedia('conn-1', 'barge-in');
    await port.playText('conn-1', 'hi', { operationContext: 'u1' });
    ctl.abandon('test');
    await port.hangUp('conn-1', 'agent-hangup');
    expect(control.ops.map((o) => o.op)).toEqual(['cancelMedia', 'playText', 'hangUp']);
  });
});
