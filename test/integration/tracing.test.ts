// OpenTelemetry: the span tree of one simulated call (the simulator places it at a real worker),
// exported to an in-memory exporter: call → answer, turn (responder, tts, first_audio) …, archive;
// correlationId and callConnectionId on every span; no span per audio frame.
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startE2E, type E2E } from '../support/e2e.js';

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let e: E2E;
  let spans: ReadableSpan[];

  beforeAll(async () => {
    e = await startE2E({ worker: { spanExporter: exporter } });
    const report = await e.sim.runCalls({ target: e.target, calls: 1, concurrency: 1, scenario: 'qa' });
    expect(report.failuresByCause).toEqual({});
    // The call span ends after the archive step.
    await eventually(() => (exporter.getFinishedSpans().some((s) => s.name === 'call') ? true : undefined), 20_000);
    spans = exporter.getFinishedSpans();
  }, 120_000);

  afterAll(async () => {
    await e?.close();
  });

  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

  it('one call span with answer, turns and archive as children, and responder/tts under each turn', () => {
    const roots = spans.filter((s) => s.name === 'call');
    expect(roots).toHaveLength(1);
    const root = roots[0] as ReadableSpan;
    expect(parentOf(root)).toBeUndefined();
    const rootId = root.spanContext().spanId;
    const children = spans.filter((s) => parentOf(s) === rootId);
    const names = children.map((s) => s.name);
    expect(names.filter((n) => n === 'answer')).toHaveLength(1);
    expect(names.filter((n) => n === 'archive')).toHaveLength(1);
    const turns = children.filter((s) => s.name === 'turn');
    expect(turns.length).toBeGreaterThanOrEqual(2);
    for (const turn of turns) {
      const under = spans.filter((s) => parentOf(s) === turn.spanContext().spanId).map((s) => s.name);
      expect(under).toContain('tts');
      expect(turn.events.map((ev) => ev.name)).toContain('first_audio');
    }
    // At least one turn ran the responder (the greeting may come from the cache of fixed lines).
    expect(spans.filter((s) => s.name === 'responder').every((s) => turns.some((t) => t.spanContext().spanId === parentOf(s)))).toBe(true);
    expect(spans.some((s) => s.name === 'responder')).toBe(true);
    expect(root.attributes['voice.turns']).toBe(turns.length);
    // One trace for the whole call.
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('every span carries the call id, correlationId and callConnectionId', () => {
    const root = spans.find((s) => s.name === 'call') as ReadableSpan;
    expect(root.attributes.correlationId).toEqual(expect.any(String));
    expect(root.attributes.callConnectionId).toEqual(expect.any(String));
    for (const s of spans) {
      expect(s.attributes['voice.call_id'], s.name).toBe(root.attributes['voice.call_id']);
      expect(s.attributes.correlationId, s.name).toBe(root.attributes.correlationId);
      if (s.name !== 'answer') expect(s.attributes.callConnectionId, s.name).toBe(root.attributes.callConnectionId);
    }
  });

  it('no span per audio frame: a whole call is a few dozen spans at most', () => {
    expect(spans.length).toBeLessThan(60);
    expect(new Set(spans.map((s) => s.name))).toEqual(new Set(['call', 'answer', 'turn', 'responder', 'tts', 'archive']));
  });
});
