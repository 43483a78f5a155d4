// Transfer to a human (call-transfer.ts) over the memory call control: the line plays out before the
// request; CallTransferAccepted finalizes once as 'transferred' without a hang-up; CallTransferFailed
// or a rejected request apologizes and the call goes on; no target → "no agent available".
import { describe, expect, it } from 'vitest';
import { CallSupervisor } from '../../src/domain/call-lifecycle.js';
import { CallRegistry, LiveCall } from '../../src/domain/live-call.js';
import type { CallOutcome } from '../../src/domain/call-records.js';
import { MemoryCallControl } from '../../src/adapters/memory/memory-call-control.js';
import { silentLogger } from '../../src/logger.js';
import { CallTransfer, NO_AGENT_LINE, TRANSFER_FAILED_LINE, TRANSFERRING_LINE, type TransferEvent } from '../../src/domain/call-transfer.js';
import { parseTransferTarget } from '../../src/domain/transfer-target.js';
import { LocalResponder } from '../../src/adapters/responder/local-responder.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import type { ResponderChunk } from '../../src/domain/ports.js';

const CFG = { answerTimeoutMs: 60_000, mediaConnectTimeoutMs: 60_000, maxDurationMs: 60_000, mediaReconnectGraceMs: 500 };
const TARGET = parseTransferTarget('+14255550123');

function setup(target = TARGET, callbackTimeoutMs = 2000) {
  const control = new MemoryCallControl();
  const registry = new CallRegistry();
  const sup = new CallSupervisor({ control, registry, leases: { drop: async () => undefined }, now: () => Date.now() }, CFG);
  const finalized: CallOutcome[] = [];
  sup.onFinalize(async (_call, outcome) => void finalized.push(outcome));
  const call = new LiveCall({ callId: 'c1', from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log: silentLogger(), callerRawId: '4:+15551230000' });
  const ctl = sup.attach(call);
  ctl.answering();
  registry.bindConnection(call, 'conn-1');
  // What happened, in order: lines said (and when they finished playing) and call-control requests.
  const log: string[] = [];
  const speaker = {
    say: async (line: string) => {
      log.push(`say:${line}`);
      await new Promise((r) => setTimeout(r, 20));
      log.push(`played:${line}`);
    },
  };
  const events: TransferEvent[] = [];
  const transfer = new CallTransfer(call, { control, metrics: { transfer: (e) => void events.push(e) } }, { target, announceTimeoutMs: 2000, callbackTimeoutMs }, speaker).start();
  const cb = (type: string, data: Record<string, unknown> = {}) => ctl.handleCallback({ callId: 'c1', id: `${type}-${Math.random()}`, type, data, time: null });
  const requests = () => control.ops.filter((o) => o.op === 'transfer');
  const orderOf = () => [...log, ...requests().map(() => 'transfer')];
  return { control, call, ctl, finalized, log, events, transfer, cb, requests, orderOf };
}

describe('CallTransfer', () => {
  it('says the transferring line, requests only after it played out, and CallTransferAccepted ends our leg as transferred (no hang-up, finalized once)', async () => {
    const s = setup();
    const requestedAfter: string[] = [];
    const inner = s.control.transfer.bind(s.control);
    s.control.transfer = async (...args) => {
      requestedAfter.push(...s.log);
      return inner(...args);
    };
    expect(await s.transfer.transfer()).toBe('requested');
    expect(requestedAfter).toEqual([`say:${TRANSFERRING_LINE}`, `played:${TRANSFERRING_LINE}`]);
    expect(s.requests()).toEqual([{ op: 'transfer', callConnectionId: 'conn-1', target: TARGET, operationContext: 'transfer:c1', transfereeRawId: '4:+15551230000' }]);
    expect(s.call.transferPending).toBe(true);
    s.cb('CallTransferAccepted');
    s.cb('CallDisconnected');
    await s.ctl.done;
    expect(s.finalized).toEqual(['transferred']);
    expect(s.control.ops.some((o) => o.op === 'hangUp')).toBe(false);
    expect(s.events).toEqual(['requested', 'accepted']);
  });

  it('CallTransferFailed: the agent apologizes, the call continues, and a later transfer may be tried', async () => {
    const s = setup();
    await s.transfer.transfer();
    s.cb('CallTransferFailed', { resultInformation: { code: 500, subCode: 7504, message: 'target unavailable' } });
    for (let i = 0; i < 200 && s.log.at(-1) !== `played:${TRANSFER_FAILED_LINE}`; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.log.at(-1)).toBe(`played:${TRANSFER_FAILED_LINE}`);
    expect(s.finalized).toEqual([]);
    expect(s.ctl.finalized).toBe(false);
    expect(s.call.transferPending).toBe(false);
    expect(s.events).toEqual(['requested', 'failed']);
    expect(await s.transfer.transfer({ announce: false })).toBe('requested');
    expect(s.requests()).toHaveLength(2);
    s.ctl.dispose();
  });

  it('a rejected request (the REST call fails) is a failed transfer: apology, the call continues', async () => {
    const s = setup();
    s.control.failNextTransfer = new Error('403 forbidden');
    expect(await s.transfer.transfer()).toBe('failed');
    expect(s.log).toContain(`played:${TRANSFER_FAILED_LINE}`);
    expect(s.ctl.finalized).toBe(false);
    expect(s.events).toEqual(['requested', 'failed']);
    s.ctl.dispose();
  });

  it('no callback at all within callbackTimeoutMs counts as failed: apology, the call continues', async () => {
    const s = setup(TARGET, 50);
    await s.transfer.transfer({ announce: false });
    // Poll (bounded) instead of a fixed sleep: under CI load the timer and the 20 ms line may run late.
    for (let i = 0; i < 200 && !s.log.includes(`played:${TRANSFER_FAILED_LINE}`); i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.events).toEqual(['requested', 'failed']);
    expect(s.log).toContain(`played:${TRANSFER_FAILED_LINE}`);
    expect(s.call.transferPending).toBe(false);
    s.ctl.dispose();
  });

  it('no target configured: "no agent available", nothing requested, the call continues', async () => {
    const s = setup(null as never);
    expect(await s.transfer.transfer()).toBe('no-target');
    expect(s.log).toEqual([`say:${NO_AGENT_LINE}`, `played:${NO_AGENT_LINE}`]);
    expect(s.requests()).toEqual([]);
    expect(s.events).toEqual(['no-target']);
    expect(s.ctl.finalized).toBe(false);
    s.ctl.dispose();
  });

  it('one transfer at a time; the pipeline event starts one (announced replies skip the line)', async () => {
    const s = setup();
    s.call.events.emit('transferRequested', { announced: true });
    expect(await s.transfer.transfer()).toBe('busy');
    await new Promise((r) => setTimeout(r, 10));
    expect(s.log).toEqual([]);
    expect(s.requests()).toHaveLength(1);
    s.ctl.dispose();
  });
});

describe('LocalResponder asks for an agent', () => {
  async function chunks(kind: 'speech' | 'dtmf', text: string): Promise<ResponderChunk[]> {
    const r = new LocalResponder({ sessions: new MemorySessionStore({ clock: { now: () => Date.now(), monotonic: () => performance.now() } }, { auth: 900 } as never) });
    const out: ResponderChunk[] = [];
    for await (const c of r.respond({ callId: 'c1', state: { context: {}, history: [] } as never, input: { kind, text, confidence: 1 } }, new AbortController().signal)) out.push(c);
    return out;
  }
  it('on 0# (keypad input ends with #, as the PIN does) and on "agent": the transfer action, the line left to the transfer', async () => {
    for (const out of [await chunks('dtmf', '0'), await chunks('speech', 'I want to talk to an agent')]) {
      expect(out.filter((c) => c.type === 'action')).toEqual([{ type: 'action', action: 'transfer' }]);
      expect(out.filter((c) => c.type === 'text')).toEqual([]);
    }
    // Another keypad entry is still a PIN.
    expect((await chunks('dtmf', '9999')).some((c) => c.type === 'action')).toBe(false);
  });
});
