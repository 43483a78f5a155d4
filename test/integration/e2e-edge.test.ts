// Issue 4 through the simulator: 50 concurrent calls against a real worker on real Redis, with
// Event Grid redeliveries and duplicated callbacks. Every call is validated, answered once,
// connected and ended by the caller, and finalized exactly once; duplicates have no second effect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../src/domain/call-records.js';
import type { SimReport } from '../../src/simulator/report.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { counterTotal } from '../support/e2e-metrics.js';

const CALLS = 50;

describe('e2e: ACS edge under 50 concurrent calls with redeliveries', () => {
  let e: E2E;
  let report: SimReport;
  const finalized = new Map<string, CallOutcome[]>();

  beforeAll(async () => {
    e = await startE2E();
    e.worker.edge.onFinalize(async (call, outcome) => {
      const list = finalized.get(call.callId) ?? [];
      list.push(outcome);
      finalized.set(call.callId, list);
    });
    report = await e.sim.runCalls({ target: e.target, calls: CALLS, concurrency: CALLS, scenario: 'hangup-mid-reply', duplicateRate: 0.3 });
    // Finalization runs after the CallDisconnected callback was answered: wait for the last one.
    await eventually(() => (finalized.size >= CALLS && e.worker.calls.size === 0 ? true : undefined), 20_000);
  }, 120_000);

  afterAll(async () => {
    await e?.close();
  });

  it('runs every call to the end without a failure or protocol violation', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.calls).toMatchObject({ requested: CALLS, started: CALLS, succeeded: CALLS, failed: 0 });
    expect(report.protocolViolations).toBe(0);
    expect(report.restUnauthorized).toBe(0);
    expect(report.callbacks.failed).toBe(0);
  });

  it('really redelivered IncomingCall events and duplicated callbacks', () => {
    expect(report.incomingCallDeliveries).toBeGreaterThan(CALLS);
    expect(report.callbacks.duplicated).toBeGreaterThan(0);
  });

  it('answers each call exactly once although some IncomingCall events came twice', () => {
    const calls = e.sim.calls;
    expect(calls).toHaveLength(CALLS);
    expect(calls.some((c) => c.incomingCallDeliveries > 1)).toBe(true);
    for (const c of calls) {
      expect(c.answers, `call ${c.index}`).toBe(1);
      expect(c.callConnectionId, `call ${c.index}`).toBeDefined();
      expect(c.mediaConnections, `call ${c.index}`).toBeGreaterThanOrEqual(1);
      expect(c.firstAgentAudioAt, `call ${c.index}`).toBeDefined();
      expect(c.state).toBe('disconnected');
      expect(c.disconnectedBy).toBe('caller');
    }
    expect(new Set(calls.map(workerCallId)).size).toBe(CALLS);
  });

  it('finalizes every call exactly once, as a caller hang-up', () => {
    const ids = e.sim.calls.map(workerCallId);
    expect([...finalized.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(finalized.get(id), id).toEqual(['caller-hangup']);
  });

  it('counts the duplicates it absorbed and the calls it ended', async () => {
    expect(await counterTotal(e.worker, 'voice_duplicate_events_total')).toBeGreaterThan(0);
    expect(await counterTotal(e.worker, 'voice_duplicate_events_total', { source: 'incoming-call' })).toBeGreaterThan(0);
    expect(await counterTotal(e.worker, 'voice_duplicate_events_total', { source: 'callback' })).toBeGreaterThan(0);
    expect(await counterTotal(e.worker, 'voice_call_answers_total', { outcome: 'answered' })).toBe(CALLS);
    expect(await counterTotal(e.worker, 'voice_calls_ended_total')).toBe(CALLS);
    expect(await counterTotal(e.worker, 'voice_calls_ended_total', { outcome: 'caller-hangup' })).toBe(CALLS);
    expect(await counterTotal(e.worker, 'voice_call_finalizer_failures_total')).toBe(0);
    expect(e.worker.calls.size).toBe(0);
  });
});
