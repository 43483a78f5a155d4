// Issue 16 (barge-in) through the real simulator against a real worker: the caller who waits (qa)
// and the caller whose line returns the agent's own audio at -25 dB (echo) never stop the agent; a
// caller who talks over it gets stopAudio from the first voiced frame (latency recorded) and the
// reply dropped; a backchannel ("Uh-huh", no words) pauses the agent, which then resumes from where
// the caller stopped hearing it and finishes the same reply (nothing skipped, nothing dropped).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINES } from '../../src/adapters/responder/local-responder.js';
import type { Turn } from '../../src/domain/conversation.js';
import { SCRIPT } from '../../src/simulator/caller-audio.js';
import type { SimReport } from '../../src/simulator/report.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { framesBetween } from '../support/e2e-audio.js';
import { counterTotal } from '../support/e2e-metrics.js';

describe('e2e: barge-in (qa, echo, barge-in, backchannel)', () => {
  let e: E2E;
  let report: SimReport;
  const byScenario = new Map<string, SimCall>();
  const ended = new Set<string>();

  beforeAll(async () => {
    e = await startE2E();
    e.worker.edge.onFinalize(async (call) => void ended.add(call.callId));
    report = await e.sim.runCalls({ target: e.target, calls: 4, concurrency: 4, scenario: 'qa,echo,barge-in,backchannel', captureOutbound: true });
    for (const c of e.sim.calls) byScenario.set(c.scenario, c);
    await eventually(() => (ended.size >= 4 ? true : undefined), 20_000);
  }, 120_000);

  afterAll(async () => {
    await e?.close();
  });

  const history = async (scenario: string): Promise<readonly Turn[]> => (await e.worker.state.conversations.getState(workerCallId(byScenario.get(scenario)!))).history;

  it('runs every call without failures or protocol violations', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.protocolViolations).toBe(0);
    expect([...byScenario.keys()].sort()).toEqual(['backchannel', 'barge-in', 'echo', 'qa']);
  });

  it('qa and echo (the agent heard back at -25 dB): no stopAudio at all, every answer complete', async () => {
    expect(report.stopAudioByScenario.qa).toBe(0);
    expect(report.stopAudioByScenario.echo).toBe(0);
    // The echo call's stream did carry the agent back: frames for the greeting and three answers.
    expect(byScenario.get('echo')!.echoFrames).toBeGreaterThan(200);
    expect(byScenario.get('qa')!.echoFrames).toBe(0);
    for (const scenario of ['qa', 'echo']) {
      const turns = await history(scenario);
      const answers = turns.filter((t) => t.speaker === 'assistant');
      expect(answers.length, scenario).toBeGreaterThanOrEqual(4);
      for (const a of answers) expect(a.interrupted, `${scenario}: ${a.text}`).toBeUndefined();
      expect(turns.filter((t) => t.speaker === 'user').map((t) => t.text)).toEqual(SCRIPT.slice(0, 3));
    }
  });

  it('barge-in: stopAudio measured from the first voiced frame, the reply dropped, the caller heard', async () => {
    const call = byScenario.get('barge-in')!;
    expect(call.stopAudioTimes.length).toBe(1);
    expect(report.latency.bargeIn.count).toBe(1);
    expect(report.latency.bargeIn.max).toBeGreaterThan(0);
    const turns = await history('barge-in');
    const q = turns.findIndex((t) => t.speaker === 'user' && t.text === SCRIPT[0]);
    expect(turns[q + 1]).toMatchObject({ speaker: 'assistant', interrupted: true });
    expect(turns[q + 2]).toMatchObject({ speaker: 'user', text: SCRIPT[3] });
    expect(await counterTotal(e.worker, 'voice_media_barge_in_pauses_total', { outcome: 'confirmed' })).toBe(1);
  });

  it('backchannel: paused, then resumed from where it stopped; the same reply is finished, not dropped', async () => {
    const call = byScenario.get('backchannel')!;
    expect(call.stopAudioTimes.length).toBe(1);
    expect(report.latency.resume.count).toBe(1);
    // Agent audio again after the pause (no new caller turn in between: the same reply).
    const stopAt = call.stopAudioTimes[0]!;
    expect(framesBetween(call, stopAt, Number.POSITIVE_INFINITY)).toBeGreaterThan(10);
    const turns = await history('backchannel');
    const q = turns.findIndex((t) => t.speaker === 'user' && t.text === SCRIPT[0]);
    const answer = turns[q + 1] as Turn;
    expect(answer).toMatchObject({ speaker: 'assistant', text: LINES.askPin });
    expect(answer.interrupted).toBeUndefined();
    expect(turns.filter((t) => t.speaker === 'user')).toHaveLength(1);
    // What the caller heard of the reply = the reply, once: the frames ACS discarded at stopAudio
    // were sent again after the resume, none skipped (within a frame of rounding at each end).
    const askedAt = call.callerTurns![0]!.finalAt!;
    const received = framesBetween(call, askedAt, Number.POSITIVE_INFINITY);
    const discarded = call.stopDiscardedFrames[0]!;
    expect(Math.abs(received - discarded - (answer.playedMs as number) / 20)).toBeLessThanOrEqual(2);
    expect(await counterTotal(e.worker, 'voice_media_barge_in_pauses_total', { outcome: 'resumed' })).toBe(1);
  });
});
