// e2e: REALTIME_PROVIDER=voicelive — the worker's own wiring (clients.ts builds the Voice Live SDK client,
// realtime-wiring.ts picks its connector) against the local realtime server speaking the Voice Live
// event names (response.audio.delta, …), with an api-key ("How to use the Voice Live API"). One barge-in
// call: stopAudio reaches ACS, the response is cancelled and the item truncated at the played ms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Turn } from '../../src/domain/conversation.js';
import { startRealtimeServer, type LocalRealtimeServer } from '../../src/simulator/realtime-server.js';
import type { SimReport } from '../../src/simulator/report.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { shortAnswer } from '../support/realtime.js';

describe('e2e: RESPONDER=realtime, REALTIME_PROVIDER=voicelive through @azure/ai-voicelive', () => {
  let e: E2E;
  let rt: LocalRealtimeServer;
  let report: SimReport;
  let turns: readonly Turn[];

  beforeAll(async () => {
    rt = await startRealtimeServer({ answer: shortAnswer, eventNames: 'beta', apiKey: 'vl-e2e-key' });
    e = await startE2E({ env: { RESPONDER: 'realtime', REALTIME_PROVIDER: 'voicelive', REALTIME_URL: rt.url, REALTIME_API_KEY: 'vl-e2e-key', REALTIME_VOICE: 'en-US-AvaNeural', REALTIME_SILENCE_MS: '300' } });
    report = await e.sim.runCalls({ target: e.target, calls: 1, concurrency: 1, scenario: 'barge-in', captureOutbound: true });
    turns = await eventually(async () => (await e.worker.archive.archive.getTranscript(workerCallId(e.sim.calls[0]!)))?.turns, 8000);
  }, 30_000);

  afterAll(async () => {
    await e?.close();
    await rt?.close();
  });

  it('opens the session on the SDK path, and the barge-in truncates the played milliseconds', () => {
    expect(report.failuresByCause).toEqual({});
    const session = rt.sessions[0]!;
    expect(new URL(session.url, 'http://x').pathname).toBe('/voice-live/realtime');
    expect(session.headers['api-key']).toBe('***');
    const update = session.events.find((ev) => ev.type === 'session.update')!.body as { session: Record<string, unknown> };
    expect(update.session.voice).toEqual({ type: 'azure-standard', name: 'en-US-AvaNeural' });
    expect(e.sim.calls[0]!.stopAudioTimes.length).toBe(1);
    const cut = turns.find((t) => t.speaker === 'assistant' && t.interrupted === true);
    expect(cut, JSON.stringify(turns)).toBeDefined();
    const truncate = session.events.find((ev) => ev.type === 'conversation.item.truncate')!;
    expect(truncate.body.audio_end_ms).toBe(cut!.playedMs);
    expect(turns.some((t) => t.speaker === 'user')).toBe(true);
  });
});
