import { describe, expect, it } from 'vitest';
import { callReportFrom, formatDemoReport, percentiles } from '../../src/demo/demo-report.js';

describe('demo report', () => {
  it('computes nearest-rank percentiles', () => {
    expect(percentiles([])).toEqual({ n: 0, p50: 0, p95: 0, max: 0 });
    const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(p).toEqual({ n: 100, p50: 50, p95: 95, max: 100 });
  });

  it('prints transcripts with interruptions and a latency table', () => {
    const call = callReportFrom({
      callId: '0123456789abcdef',
      label: 'hours, interrupted',
      outcome: 'completed',
      ok: true,
      durationMs: 4200,
      history: [
        { seq: 1, speaker: 'user', text: 'When are you open?', at: 1, kind: 'speech' },
        { seq: 2, speaker: 'assistant', text: 'We are open Monday', at: 2, interrupted: true, playedMs: 900 },
        { seq: 3, speaker: 'user', text: '[dtmf ****]', at: 3, kind: 'dtmf' },
      ],
      timings: [
        { utteranceId: 'u1', kind: 'speech', turnMs: 80, responderMs: 2, ttsMs: 70, sentences: 1, filler: false, fallback: null },
        { utteranceId: 'u2', kind: 'dtmf', turnMs: 120, responderMs: 3, ttsMs: 110, sentences: 2, filler: true, fallback: 'timeout' },
      ],
    });
    expect(call).toMatchObject({ turnMs: [80, 120], fillers: 1, fallbacks: 1, bargeIns: 1 });
    const text = formatDemoReport({ startedAt: 0, durationMs: 5000, responder: 'local', tts: 'local', state: 'memory', calls: [call], ttsCache: { hits: 3, misses: 1 } });
    expect(text).toContain('1 calls, 1 ok');
    expect(text).toContain('agent    We are open Monday  [interrupted after 900 ms]');
    expect(text).toContain('caller ⌨ [dtmf ****]');
    expect(text).toMatch(/turn \(input → first audio queued\)\s+2\s+80 ms\s+120 ms\s+120 ms/);
    expect(text).toContain('tts cache 3/4 hits');
  });
});
