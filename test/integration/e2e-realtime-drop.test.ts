// Issue 17, failure: the realtime model socket drops mid-call. One call's socket comes back (the
// bridge re-opens a session primed with the stored history; the caller hears the filler line, then
// the rest of the call is answered); the other's cannot (every reconnect refused): the caller hears
// the goodbye line and the worker hangs up with outcome responder-failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../src/domain/call-records.js';
import type { Turn } from '../../src/domain/conversation.js';
import { FAILURE_GOODBYE_LINE, FILLER_LINE } from '../../src/domain/turn/turn-policy.js';
import { SCRIPT } from '../../src/simulator/caller-audio.js';
import { startRealtimeServer, type LocalRealtimeServer, type RealtimeSessionRecord } from '../../src/simulator/realtime-server.js';
import type { SimReport } from '../../src/simulator/report.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { counterTotal } from '../support/e2e-metrics.js';
import { shortAnswer } from '../support/realtime.js';

describe('e2e: RESPONDER=realtime, model socket dropped mid-call', () => {
  let e: E2E;
  let rt: LocalRealtimeServer;
  let report: SimReport;
  let recovered: RealtimeSessionRecord;
  let lost: RealtimeSessionRecord;
  const outcomes = new Map<string, CallOutcome>();
  const turns = new Map<string, readonly Turn[]>();

  beforeAll(async () => {
    rt = await startRealtimeServer({ answer: shortAnswer });
    e = await startE2E({ env: { RESPONDER: 'realtime', REALTIME_URL: rt.url, REALTIME_SILENCE_MS: '300', REALTIME_RECONNECT_MS: '800' } });
    e.worker.edge.onFinalize(async (call, outcome) => void outcomes.set(call.callId, outcome));
    const run = e.sim.runCalls({ target: e.target, calls: 2, concurrency: 2, scenario: 'qa' });
    // Once both sessions heard the caller's first words: drop one (it reconnects), then, with every
    // new connection refused, the other.
    await eventually(() => (rt.sessions.length === 2 && rt.sessions.every((s) => s.transcripts.length > 0) ? true : undefined), 15_000, 20);
    [recovered, lost] = rt.sessions as [RealtimeSessionRecord, RealtimeSessionRecord];
    expect(rt.drop(recovered.id)).toBe(true);
    await eventually(() => (rt.sessions.length === 3 ? true : undefined), 3000, 10);
    rt.refuse(1000);
    expect(rt.drop(lost.id)).toBe(true);
    report = await run;
    for (const c of e.sim.calls) {
      const id = workerCallId(c);
      turns.set(c.scenario + c.index, await eventually(async () => (await e.worker.archive.archive.getTranscript(id))?.turns, 8000));
    }
  }, 60_000);

  afterAll(async () => {
    await e?.close();
    await rt?.close();
  });

  it('the recovered call: a second session primed with the stored history, the filler heard, every turn answered', async () => {
    const second = rt.sessions[2]!;
    const primed = second.events.filter((ev) => ev.type === 'conversation.item.create').map((ev) => JSON.stringify(ev.body));
    expect(primed.some((p) => p.includes(SCRIPT[0]!))).toBe(true);
    expect(second.events[0]?.type).toBe('session.update');
    expect(second.transcripts).toEqual(SCRIPT.slice(1, 3));
    const all = [...turns.values()].find((t) => t.some((x) => x.text === SCRIPT[2]))!;
    expect(all.filter((t) => t.speaker === 'user').map((t) => t.text)).toEqual(SCRIPT.slice(0, 3));
    expect(all.some((t) => t.speaker === 'assistant' && t.text === FILLER_LINE)).toBe(true);
    expect(await counterTotal(e.worker, 'voice_realtime_reconnects_total', { result: 'ok' })).toBe(1);
  });

  it('the lost call: goodbye line, then hung up by the worker with outcome responder-failed', async () => {
    // The recovered caller hangs up after the scenario; the lost one was hung up by the worker.
    expect([...outcomes.values()].sort()).toEqual(['caller-hangup', 'responder-failed']);
    const failed = [...turns.values()].find((t) => t.some((x) => x.text === FAILURE_GOODBYE_LINE));
    expect(failed).toBeDefined();
    expect(report.failuresByCause).toEqual({ 'ended-by-worker': 1 });
    expect(await counterTotal(e.worker, 'voice_realtime_reconnects_total', { result: 'failed' })).toBe(1);
  });
});
