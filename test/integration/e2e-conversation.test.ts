// Issue 8 through the simulator: a three-question call hears three spoken answers (checked with a
// VAD on the agent audio the simulator captured), the history in Redis holds the turns in order, and
// a barge-in keeps only the played (heard) part of the interrupted answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINES } from '../../src/adapters/responder/local-responder.js';
import type { Turn } from '../../src/domain/conversation.js';
import { SCRIPT } from '../../src/simulator/caller-audio.js';
import type { SimReport } from '../../src/simulator/report.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { pcmBetween } from '../support/e2e-audio.js';
import { speechShare } from '../support/fvad.js';

const GREETING = 'Hello, thanks for calling. How can I help you today?';
const ANSWERS = [LINES.askPin, LINES.hours, LINES.goodbye];
/** Speech frames (20 ms) an answer must at least contain to count as spoken: half a second. */
const MIN_SPEECH_FRAMES = 25;

const words = (s: string) => s.split(/\s+/).filter(Boolean);

describe('e2e: conversation loop (qa, barge-in)', () => {
  let e: E2E;
  let report: SimReport;
  let qa: SimCall;
  let barge: SimCall;
  const ended = new Map<string, string[]>();

  beforeAll(async () => {
    e = await startE2E();
    e.worker.edge.onFinalize(async (call, outcome) => void ended.set(call.callId, [...(ended.get(call.callId) ?? []), outcome]));
    report = await e.sim.runCalls({ target: e.target, calls: 2, concurrency: 2, scenario: 'qa,barge-in', captureOutbound: true });
    qa = e.sim.calls.find((c) => c.scenario === 'qa') as SimCall;
    barge = e.sim.calls.find((c) => c.scenario === 'barge-in') as SimCall;
    await eventually(() => (ended.size >= 2 ? true : undefined), 20_000);
  }, 120_000);

  afterAll(async () => {
    await e?.close();
  });

  it('runs both calls without failures; the agent ends the qa call after its goodbye', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.protocolViolations).toBe(0);
    expect(qa.disconnectedBy).toBe('worker');
    expect(qa.hangupRequests.length).toBeGreaterThanOrEqual(1);
    // The agent's goodbye ended the qa call; the barge-in caller hung up himself.
    expect(ended.get(workerCallId(qa))).toEqual(['agent-hangup']);
    expect(ended.get(workerCallId(barge))).toEqual(['caller-hangup']);
  });

  it('qa: the caller hears a spoken answer after each of the three questions', async () => {
    const turns = qa.callerTurns ?? [];
    expect(turns.map((t) => t.utterance)).toEqual([0, 1, 2]);
    for (const [i, t] of turns.entries()) {
      const from = t.finalAt as number;
      const to = turns[i + 1]?.onsetAt ?? qa.endedAt ?? Number.POSITIVE_INFINITY;
      const pcm = pcmBetween(qa, from, to);
      const frames = Math.floor(pcm.length / 320);
      const speechFrames = Math.round((await speechShare(pcm)) * frames);
      expect(speechFrames, `speech frames after caller turn ${i}`).toBeGreaterThanOrEqual(MIN_SPEECH_FRAMES);
    }
  });

  it('qa: the history in Redis holds the greeting, then each question followed by its answer', async () => {
    const { history, turnCount } = await e.worker.state.conversations.getState(workerCallId(qa));
    expect(turnCount).toBe(7);
    expect(history.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const [greeting, ...rest] = history as [Turn, ...Turn[]];
    expect(greeting.speaker).toBe('assistant');
    // The caller waits for the greeting; were it cut, only its played words would remain.
    expect(GREETING.startsWith(greeting.text)).toBe(true);
    for (let i = 0; i < 3; i++) {
      const user = rest[2 * i] as Turn;
      const answer = rest[2 * i + 1] as Turn;
      expect(user).toMatchObject({ speaker: 'user', text: SCRIPT[i], kind: 'speech' });
      expect(answer, `answer ${i}`).toMatchObject({ speaker: 'assistant', text: ANSWERS[i] });
      expect(answer.interrupted).toBeUndefined();
      expect(answer.playedMs).toBeGreaterThan(0);
    }
  });

  it('barge-in: the history keeps only the played part of the interrupted answer', async () => {
    const { history } = await e.worker.state.conversations.getState(workerCallId(barge));
    const question = history.findIndex((t) => t.speaker === 'user' && t.text === SCRIPT[0]);
    expect(question).toBeGreaterThanOrEqual(0);
    const answer = history[question + 1] as Turn;
    expect(answer).toMatchObject({ speaker: 'assistant', interrupted: true });
    expect(answer.playedMs).toBeGreaterThan(0);
    const full = words(LINES.askPin);
    const played = words(answer.text);
    expect(played.length).toBeLessThan(full.length);
    expect(played).toEqual(full.slice(0, played.length));
    // The barge-in phrase is the caller's next turn.
    expect(history[question + 2]).toMatchObject({ speaker: 'user', text: SCRIPT[3] });
    // playedMs is the audio the caller heard before stopAudio (to the frame): what went out, less
    // the frames sent ahead that ACS still held and discarded at the stopAudio.
    const askedAt = barge.callerTurns?.[0]?.finalAt as number;
    const stopIndex = barge.stopAudioTimes.findIndex((t) => t > askedAt);
    const stopAt = barge.stopAudioTimes[stopIndex] as number;
    const receivedMs = (pcmBetween(barge, askedAt, stopAt).length / 16_000) * 1000;
    const discardedMs = (barge.stopDiscardedFrames[stopIndex] as number) * 20;
    expect(Math.abs((answer.playedMs as number) - (receivedMs - discardedMs))).toBeLessThanOrEqual(20);
  });
});
