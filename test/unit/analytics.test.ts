// Issue 18 items 6-7, the pure parts and the archiver's failure handling: which aggregate documents
// a call touches and the one patch that counts it; a transient patch failure retries the job (the
// patch is idempotent), a final one is counted and not retried; tenant/direction validation; the
// compaction pass reports failures and counts no pass then.
import { describe, expect, it } from 'vitest';
import { aggregateTargets, callMark, countPatch, firstDocument, isDay } from '../../src/domain/analytics/call-aggregates.js';
import { HotCounterCompactor, utcDays } from '../../src/domain/analytics/hot-counters.js';
import { buildArchiveJob } from '../../src/domain/archive/job-builder.js';
import { validateArchiveJob } from '../../src/domain/archive/job-validation.js';
import { emptyConversation } from '../../src/domain/conversation.js';
import { ArchiveProcessor } from '../../src/adapters/servicebus/archive-processor.js';
import { createRegistry } from '../../src/metrics.js';
import type { ArchiveJob } from '../../src/domain/archive-job.js';

const endedAt = Date.UTC(2026, 2, 14, 23, 59, 30);
const job = (o: Partial<{ tenantId: string; direction: 'inbound' | 'outbound' }> = {}): ArchiveJob =>
  buildArchiveJob({
    call: { callId: 'call-1', from: 'a', to: 'b', startedAt: endedAt - 5000, callConnectionId: null, correlationId: null, ...o },
    conversation: emptyConversation('call-1'),
    outcome: 'completed',
    endedAt,
  });

describe('call aggregates', () => {
  it('a call counts in its tenant’s UTC day and hour, under the default tenant when the job has none', () => {
    expect(aggregateTargets(job({ tenantId: 'acme' }))).toMatchObject({ tenant: 'acme', day: '2026-03-14', hour: 23, pk: 'acme|2026-03-14', hourId: 'agg:acme:2026-03-14T23' });
    expect(aggregateTargets(job()).tenant).toBe('default');
  });

  it('one patch of at most 10 operations (the Cosmos limit), conditional on the call’s lowercase mark', () => {
    const p = countPatch(job({ direction: 'outbound' }));
    expect(p.operations.length).toBeLessThanOrEqual(10);
    expect(p.operations).toContainEqual({ op: 'incr', path: '/byDirection/outbound', value: 1 });
    expect(p.operations).toContainEqual({ op: 'incr', path: '/durationMsTotal', value: 5000 });
    expect(callMark('call-1')).toMatch(/^[0-9a-f]{16}$/);
    expect(p.condition).toBe(`FROM c WHERE NOT ARRAY_CONTAINS(c.seen, '${callMark('call-1')}')`);
    expect(firstDocument(job(), 'hour')).toMatchObject({ calls: 1, seen: [callMark('call-1')], byOutcome: { completed: 1 }, hour: 23 });
  });

  it('days are real UTC dates', () => {
    expect(isDay('2026-03-14')).toBe(true);
    for (const bad of ['2026-02-30', '2026-3-14', '14-03-2026', '2026-03-14T00']) expect(isDay(bad)).toBe(false);
    expect(utcDays(Date.UTC(2026, 2, 1, 0, 5))).toEqual(['2026-03-01', '2026-02-28']);
  });

  it('validates tenantId and direction when present (older jobs have neither)', () => {
    expect(validateArchiveJob(job()).ok).toBe(true);
    expect(validateArchiveJob({ ...job(), tenantId: 'a b' })).toMatchObject({ ok: false, reason: 'tenantId invalid' });
    expect(validateArchiveJob({ ...job(), direction: 'sideways' })).toMatchObject({ ok: false, reason: 'direction invalid' });
  });
});

describe('the archiver counts a call after its transcript', () => {
  const store = { write: async () => 'created' as const, getTranscript: async () => null };
  const body = () => Buffer.from(JSON.stringify(job({ tenantId: 'acme' })));
  const failures = async (registry: ReturnType<typeof createRegistry>, kind: string) =>
    (await registry.getSingleMetric('voice_analytics_patch_failures_total')?.get())?.values.find((v) => v.labels.kind === kind)?.value ?? 0;

  it('a transient patch failure retries the job; a final one archives it and is counted', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    let fail: { code: number } | null = { code: 503 };
    const analytics = {
      record: async () => {
        if (fail) throw Object.assign(new Error('patch failed'), fail);
        return { day: 'counted' as const, hour: 'counted' as const };
      },
    };
    const p = new ArchiveProcessor({ store, sessions: null, claims: null, registry, analytics });
    expect(await p.process(body(), { 'job-version': 1 }, 0)).toMatchObject({ kind: 'retry', reason: 'throttled' });
    expect(await failures(registry, 'throttled')).toBe(1);
    fail = { code: 400 };
    expect(await p.process(body(), { 'job-version': 1 }, 0)).toMatchObject({ kind: 'archived' });
    expect(await failures(registry, 'final')).toBe(1);
    fail = null;
    expect(await p.process(body(), { 'job-version': 1 }, 0)).toMatchObject({ kind: 'archived' });
  });
});

describe('hot counter compaction', () => {
  it('a failed copy is reported and the pass not counted as complete', async () => {
    const results: string[] = [];
    const passes: number[] = [];
    let down = true;
    const c = new HotCounterCompactor(
      {
        source: { counter: 'consoleDay', names: () => ['2026-03-14'], read: async () => ({ calls: 3 }), restore: async () => undefined },
        cold: {
          save: async () => {
            if (down) throw new Error('cosmos down');
            return 'written';
          },
          load: async () => null,
        },
        now: () => 1000,
        hooks: { onResult: (r) => results.push(r), onPass: (at) => passes.push(at) },
      },
      { intervalMs: 1000 },
    );
    await c.runOnce();
    down = false;
    await c.runOnce();
    expect(results).toEqual(['failed', 'written']);
    expect(passes).toEqual([1000]);
  });
});
