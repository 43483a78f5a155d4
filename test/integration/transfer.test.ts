// Transfer to a human through the simulator with the real Call Automation SDK (issue 17, item 3):
// the caller keys 0#, hears the transferring line, then the worker calls transferCallToParticipant.
// Accepted: our leg ends (CallTransferAccepted, CallDisconnected) as 'transferred', finalized once,
// archived, never hung up. Failed (CallTransferFailed): the agent apologizes and the call goes on.
// One call per case, both at once; the caller keys 0# over the greeting and hangs up 1.2 s into the apology.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSFER_FAILED_LINE, TRANSFERRING_LINE } from '../../src/domain/call-transfer.js';
import type { SimReport } from '../../src/simulator/report.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { pcmBetween } from '../support/e2e-audio.js';
import { speechShare } from '../support/fvad.js';

const TARGET = '+14255550123';

async function speechFrames(call: SimCall, from: number, to: number): Promise<number> {
  const pcm = pcmBetween(call, from, to);
  return Math.round((await speechShare(pcm)) * Math.floor(pcm.length / 320));
}

describe('transfer to a human (simulator, real SDK)', () => {
  let e: E2E;
  let report: SimReport;
  let accepted: SimCall;
  let failed: SimCall;
  const ended = new Map<string, string[]>();

  beforeAll(async () => {
    e = await startE2E({ env: { TRANSFER_TARGET: TARGET } });
    e.worker.edge.onFinalize(async (call, outcome) => void ended.set(call.callId, [...(ended.get(call.callId) ?? []), outcome]));
    report = await e.sim.runCalls({ target: e.target, calls: 2, concurrency: 2, scenario: 'transfer,transfer-fail', captureOutbound: true });
    accepted = e.sim.calls.find((c) => c.scenario === 'transfer') as SimCall;
    failed = e.sim.calls.find((c) => c.scenario === 'transfer-fail') as SimCall;
    await eventually(() => (ended.size >= 2 ? true : undefined), 10_000);
  }, 60_000);

  afterAll(async () => {
    await e?.close();
  });

  it('both scenarios pass without protocol violations', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.protocolViolations).toBe(0);
  });

  it('accepted: transferToParticipant to the target with the caller as transferee, after the transferring line played; ends as transferred, once, archived, never hung up', async () => {
    const [req, ...more] = accepted.transferRequests ?? [];
    expect(more).toEqual([]);
    expect(req).toMatchObject({ targetRawId: `4:${TARGET}`, transfereeRawId: accepted.caller.rawId });
    // The caller heard the line before the request went out (half a second of speech at least).
    const dtmfAt = (req?.at ?? 0) - 10_000;
    expect(await speechFrames(accepted, Math.max(dtmfAt, 0), req?.at ?? 0)).toBeGreaterThanOrEqual(25);
    expect(accepted.disconnectedBy).toBe('transfer');
    expect(accepted.hangupRequests).toEqual([]);
    const id = workerCallId(accepted);
    expect(ended.get(id)).toEqual(['transferred']);
    const doc = await eventually(() => e.worker.archive.archive.getTranscript(id).then((d) => d ?? undefined), 10_000);
    expect(doc.outcome).toBe('transferred');
    // The last thing the agent said, in full, before our leg left: the transferring line.
    const last = doc.turns.filter((t) => t.speaker === 'assistant').at(-1);
    expect(last).toMatchObject({ text: TRANSFERRING_LINE });
    expect(last?.interrupted).toBeUndefined();
  });

  it('failed: the agent says so after CallTransferFailed and the call goes on (the caller hangs up)', async () => {
    const [req] = failed.transferRequests ?? [];
    expect(req?.answer).toBe('fail');
    expect(failed.callbacks.map((c) => c.type)).toContain('CallTransferFailed');
    // The apology is heard after the request (the transferring line came before it).
    expect(await speechFrames(failed, req?.at ?? 0, failed.endedAt ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(25);
    expect(failed.disconnectedBy).toBe('caller');
    const id = workerCallId(failed);
    expect(ended.get(id)).toEqual(['caller-hangup']);
    const { history } = await e.worker.state.conversations.getState(id);
    const [line, apology] = history.filter((t) => t.speaker === 'assistant').slice(-2);
    expect(line).toMatchObject({ text: TRANSFERRING_LINE });
    expect(line?.interrupted).toBeUndefined();
    // The caller hung up while hearing it: the played part of the apology is what is kept.
    expect(apology?.text.length).toBeGreaterThan(0);
    expect(TRANSFER_FAILED_LINE.startsWith(apology?.text ?? '-')).toBe(true);
  });
});
