// Issue 17 (RESPONDER=realtime) through the real simulator and the local realtime server
// (src/simulator/realtime-server.ts, built from the OpenAI Realtime / Voice Live event docs), against
// a real worker with Redis: a qa call whose archived transcript holds both sides, and a barge-in call
// whose reply is cut (stopAudio to ACS) and truncated in the model's memory with
// conversation.item.truncate audio_end_ms = the milliseconds actually played.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Turn } from '../../src/domain/conversation.js';
import { SCRIPT } from '../../src/simulator/caller-audio.js';
import { startRealtimeServer, type LocalRealtimeServer } from '../../src/simulator/realtime-server.js';
import type { SimReport } from '../../src/simulator/report.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { counterTotal } from '../support/e2e-metrics.js';
import { shortAnswer } from '../support/realtime.js';

describe('e2e: RESPONDER=realtime (qa, barge-in)', () => {
  let e: E2E;
  let rt: LocalRealtimeServer;
  let report: SimReport;
  const byScenario = new Map<string, SimCall>();
  const archived = new Map<string, readonly Turn[]>();

  beforeAll(async () => {
    // Short answers keep the file fast; the one to barge into lasts ~2.5 s. A qa call still lasts ~9 s of caller speech.
    rt = await startRealtimeServer({ answer: shortAnswer });
    e = await startE2E({ env: { RESPONDER: 'realtime', REALTIME_URL: rt.url, REALTIME_SILENCE_MS: '300' } });
    report = await e.sim.runCalls({ target: e.target, calls: 2, concurrency: 2, scenario: 'qa,barge-in', captureOutbound: true });
    for (const c of e.sim.calls) byScenario.set(c.scenario, c);
    for (const [scenario, call] of byScenario) {
      const id = workerCallId(call);
      archived.set(scenario, await eventually(async () => (await e.worker.archive.archive.getTranscript(id))?.turns, 8000));
    }
  }, 60_000);

  afterAll(async () => {
    await e?.close();
    await rt?.close();
  });

  it('answers with pcm24KMono and runs both calls without failures', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.protocolViolations).toBe(0);
    for (const c of byScenario.values()) expect(c.answer?.mediaStreamingOptions?.audioFormat).toBe('pcm24KMono');
  });

  it('qa: the archived transcript holds the caller (model transcription) and the agent (output transcript), in seq order', () => {
    const turns = archived.get('qa')!;
    expect(turns.filter((t) => t.speaker === 'user').map((t) => t.text)).toEqual(SCRIPT.slice(0, 3));
    const answers = turns.filter((t) => t.speaker === 'assistant');
    expect(answers.length).toBeGreaterThanOrEqual(4); // greeting + three answers
    expect(answers[0]!.text).toBe('Hello, thanks for calling.');
    expect(answers.some((a) => /balance is one hundred/.test(a.text) && a.interrupted === undefined)).toBe(true);
    expect(turns.map((t) => t.seq)).toEqual([...turns.map((t) => t.seq)].sort((a, b) => a - b));
    // Asked about the balance, the model called lookup_caller first: the call is a tool turn, before the answer.
    const tool = turns.findIndex((t) => t.speaker === 'tool');
    expect(turns[tool]?.text).toMatch(/^lookup_caller\(\{\}\) -> \{"found":/);
    expect(turns.slice(tool + 1).find((t) => t.speaker === 'assistant')?.text).toMatch(/balance is one hundred/);
  });

  it('barge-in: stopAudio reached ACS, the response was cancelled and the item truncated at the played milliseconds', async () => {
    const call = byScenario.get('barge-in')!;
    expect(call.stopAudioTimes.length).toBe(1);
    const turns = archived.get('barge-in')!;
    const cut = turns.find((t) => t.speaker === 'assistant' && t.interrupted === true);
    expect(cut, JSON.stringify(turns)).toBeDefined();
    const session = rt.sessions.find((s) => s.events.some((ev) => ev.type === 'conversation.item.truncate'))!;
    const truncate = session.events.find((ev) => ev.type === 'conversation.item.truncate')!;
    // What the worker recorded as played is what it told the model the caller heard.
    expect(truncate.body.audio_end_ms).toBe(cut!.playedMs);
    expect(truncate.body.content_index).toBe(0);
    expect(cut!.playedMs).toBeGreaterThan(200);
    expect(session.events.filter((ev) => ev.type === 'conversation.item.truncate')).toHaveLength(1);
    // The cut turn holds only the words played (the unheard rest is gone, as in the model's memory).
    expect(cut!.text.split(' ').length).toBeLessThan('Your balance is one hundred and twenty dollars.'.split(' ').length);
    expect(await counterTotal(e.worker, 'voice_realtime_barge_ins_total', {})).toBeGreaterThanOrEqual(1);
  });

  it('usage (audio seconds, tokens) reaches the call summary', async () => {
    const id = workerCallId(byScenario.get('qa')!);
    const summary = await eventually(async () => (await e.worker.state.sessions.getSummary(id)) ?? undefined, 5000);
    expect(summary.usage?.audioInS).toBeGreaterThan(3);
    expect(summary.usage?.audioOutS).toBeGreaterThan(3);
    expect(summary.usage?.outputTokens).toBeGreaterThan(0);
  });
});
