// Issue 5 through the simulator: a barge-in stops the agent's playout (stopAudio, nothing more of the
// interrupted utterance on the wire), and a dropped and reconnected media socket continues the same call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../src/domain/call-records.js';
import { LINES } from '../../src/adapters/responder/local-responder.js';
import { SCRIPT } from '../../src/simulator/caller-audio.js';
import type { SimReport } from '../../src/simulator/report.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { framesBetween, nextFinalAfter } from '../support/e2e-audio.js';
import { counterTotal } from '../support/e2e-metrics.js';

/** Agent frames of an interrupted utterance tolerated after its stopAudio (none are expected). */
const MAX_FRAMES_AFTER_STOP = 1;

describe('e2e: media path (barge-in, reconnect)', () => {
  let e: E2E;
  let report: SimReport;
  let bargeIn: SimCall;
  let reconnect: SimCall;
  const finalized = new Map<string, CallOutcome[]>();

  beforeAll(async () => {
    e = await startE2E();
    e.worker.edge.onFinalize(async (call, outcome) => {
      finalized.set(call.callId, [...(finalized.get(call.callId) ?? []), outcome]);
    });
    report = await e.sim.runCalls({ target: e.target, calls: 2, concurrency: 2, scenario: 'barge-in,reconnect', captureOutbound: true });
    bargeIn = e.sim.calls.find((c) => c.scenario === 'barge-in') as SimCall;
    reconnect = e.sim.calls.find((c) => c.scenario === 'reconnect') as SimCall;
    await eventually(() => (finalized.size >= 2 && e.worker.calls.size === 0 ? true : undefined), 20_000);
  }, 120_000);

  afterAll(async () => {
    await e?.close();
  });

  it('runs both calls without failures or protocol violations', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.protocolViolations).toBe(0);
    expect(bargeIn.failure).toBeUndefined();
    expect(reconnect.failure).toBeUndefined();
  });

  it('barge-in: the worker sends stopAudio and the simulator measures the barge-in latency', async () => {
    expect(report.frames.stopAudio).toBeGreaterThanOrEqual(1);
    expect(bargeIn.stopAudioTimes.length).toBeGreaterThanOrEqual(1);
    expect(report.latency.bargeIn.count).toBe(1);
    expect(await counterTotal(e.worker, 'voice_media_barge_ins_total')).toBeGreaterThanOrEqual(bargeIn.stopAudioTimes.length);
  });

  it('barge-in: no agent audio of the interrupted utterance arrives after stopAudio', () => {
    for (const stopAt of bargeIn.stopAudioTimes) {
      // Until the caller's next Final transcript the agent has nothing new to say.
      const until = nextFinalAfter(bargeIn, stopAt);
      const late = framesBetween(bargeIn, stopAt, until);
      expect(late, `frames after the stopAudio at ${stopAt.toFixed(0)} ms`).toBeLessThanOrEqual(MAX_FRAMES_AFTER_STOP);
    }
    // The interrupted reply did play before the caller barged in.
    const firstFinal = bargeIn.callerTurns?.[0]?.finalAt as number;
    const lastStop = bargeIn.stopAudioTimes[bargeIn.stopAudioTimes.length - 1] as number;
    expect(framesBetween(bargeIn, firstFinal, lastStop)).toBeGreaterThan(0);
  });

  it('reconnect: the second socket continues the same call', async () => {
    expect(reconnect.mediaConnections).toBe(2);
    expect(reconnect.answers).toBe(1);
    const id = workerCallId(reconnect);
    // One call on the worker from answer to hang-up, finalized once; no second call from the reconnect.
    expect(finalized.size).toBe(2);
    // Three audio sockets (one per call, one more on reconnect) and as many transcription sockets:
    // real-time transcription is its own subscription with its own transportUrl.
    expect(reconnect.transcriptionConnections).toBe(2);
    expect(await counterTotal(e.worker, 'voice_media_upgrades_total')).toBe(6);
    expect(await counterTotal(e.worker, 'voice_incoming_calls_total', { result: 'accepted' })).toBe(2);
    expect(finalized.get(id)).toEqual(['caller-hangup']);
    const { history } = await e.worker.state.conversations.getState(id);
    const users = history.filter((t) => t.speaker === 'user');
    expect(users.map((t) => t.text)).toEqual([SCRIPT[0], SCRIPT[1]]);
    for (const [i, answer] of [LINES.askPin, LINES.hours].entries()) {
      const at = history.indexOf(users[i]!);
      expect(history[at + 1], `answer to caller turn ${i}`).toMatchObject({ speaker: 'assistant', text: answer });
    }
  });
});
