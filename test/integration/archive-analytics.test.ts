// Incremental analytics (issue 18 item 7) with the real @azure/cosmos SDK against the local Cosmos
// server, through the worker's own wiring (finalizer → in-process queue → archiver → Cosmos): each
// archived call is counted once in its tenant's daily and hourly aggregate documents by one
// conditional incr patch each; a redelivered job counts nothing; GET /api/analytics answers them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/test-env.js';
import { silentLogger } from '../../src/logger.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { buildArchiveJob } from '../../src/domain/archive/job-builder.js';
import { emptyConversation } from '../../src/domain/conversation.js';
import type { CallOutcome } from '../../src/domain/call-records.js';
import type { ArchiveJob } from '../../src/domain/archive-job.js';
import { utcDay } from '../../src/domain/analytics/call-aggregates.js';
import { waitFor } from './archive-rig.js';

const TOKEN = 'operator-token-0123456789';
const DAY = '2026-03-14';
const at = (hour: number, minute: number) => Date.UTC(2026, 2, 14, hour, minute);

function job(tenant: string, endedAt: number, durationMs: number, outcome: CallOutcome, direction: 'inbound' | 'outbound'): ArchiveJob {
  const call = { callId: randomUUID(), from: '4:+1425555****', to: '4:+1800555****', startedAt: endedAt - durationMs, callConnectionId: null, correlationId: null, tenantId: tenant, direction };
  return buildArchiveJob({ call, conversation: emptyConversation(call.callId), outcome, endedAt });
}

describe('incremental call analytics in Cosmos', () => {
  let worker: Worker;
  let url: string;
  let dir: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archive-analytics-'));
    worker = await createWorker(testConfig({ SPOOL_DIR: dir, API_TOKEN: TOKEN }), silentLogger(), { defaultMetrics: false });
    url = (await worker.start()).url;
  });

  afterAll(async () => {
    await worker?.stop('test');
    await rm(dir, { recursive: true, force: true });
  });

  const metric = async (name: string, labels: Record<string, string>) =>
    (await worker.registry.getSingleMetric(name)?.get())?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0) ?? 0;

  const jobs: ArchiveJob[] = [
    job('acme', at(9, 5), 30_000, 'completed', 'inbound'),
    job('acme', at(9, 20), 60_000, 'caller-hangup', 'inbound'),
    job('acme', at(9, 59), 10_000, 'failed', 'outbound'),
    job('acme', at(14, 0), 45_000, 'completed', 'outbound'),
    job('acme', at(14, 30), 15_000, 'completed', 'inbound'),
    job('acme', at(23, 59), 1_000, 'rejected', 'outbound'),
    job('other', at(9, 10), 99_000, 'completed', 'inbound'),
  ];

  it('counts N archived calls per tenant, day and hour, and a redelivered job not again', async () => {
    for (const j of jobs) await worker.archive.queue.enqueue(j);
    await waitFor(async () => (await worker.archive.analytics.read('acme', DAY)).day?.calls === 6 && (await worker.archive.analytics.read('other', DAY)).day?.calls === 1, 5_000, 'aggregated');
    const acme = await worker.archive.analytics.read('acme', DAY);
    expect(acme.day).toMatchObject({
      calls: 6,
      durationMsTotal: 161_000,
      avgDurationMs: Math.round(161_000 / 6),
      byOutcome: { completed: 3, 'caller-hangup': 1, failed: 1, rejected: 1 },
      byDirection: { inbound: 3, outbound: 3 },
    });
    expect(acme.hours.map((h) => [h.hour, h.calls, h.durationMsTotal])).toEqual([
      [9, 3, 100_000],
      [14, 2, 60_000],
      [23, 1, 1_000],
    ]);
    expect(acme.hours[0]?.byOutcome).toEqual({ completed: 1, 'caller-hangup': 1, failed: 1 });

    // Redelivery of the same jobs (e.g. a lost settlement): archived 'unchanged', aggregates untouched.
    const unchanged = await metric('voice_archive_results_total', { result: 'unchanged' });
    for (const j of jobs.slice(0, 3)) await worker.archive.queue.enqueue(j);
    await waitFor(async () => (await metric('voice_archive_results_total', { result: 'unchanged' })) >= unchanged + 3, 5_000, 'redelivered');
    expect(await worker.archive.analytics.read('acme', DAY)).toEqual(acme);
    expect(await metric('voice_analytics_updates_total', { result: 'duplicate' })).toBe(6);
    expect(await metric('voice_analytics_patch_failures_total', {})).toBe(0);
  });

  it('concurrent first calls of a new day: one document created, every call counted once', async () => {
    const burst = Array.from({ length: 12 }, (_, i) => job('burst', at(10, i), 1_000, 'completed', 'inbound'));
    const results = await Promise.all(burst.map((j) => worker.archive.analytics.record(j)));
    expect(results.filter((r) => r.day === 'created')).toHaveLength(1);
    expect((await worker.archive.analytics.read('burst', DAY)).day?.calls).toBe(12);
    expect((await Promise.all(burst.map((j) => worker.archive.analytics.record(j)))).every((r) => r.day === 'duplicate' && r.hour === 'duplicate')).toBe(true);
    expect((await worker.archive.analytics.read('burst', DAY)).day?.calls).toBe(12);
  });

  it('a finalized live call carries its admission tenant into the aggregates', async () => {
    const call = new LiveCall({ callId: randomUUID(), from: '4:+14255550111', to: '4:+18005550100', correlationId: null, startedAt: Date.now() - 2000, log: silentLogger() });
    call.tenantId = 'livetenant';
    await worker.archive.finalizer(call, 'completed');
    const today = utcDay(Date.now());
    await waitFor(async () => (await worker.archive.analytics.read('livetenant', today)).day?.calls === 1, 5_000, 'live call aggregated');
    expect((await worker.archive.analytics.read('livetenant', today)).day?.byDirection).toEqual({ inbound: 1 });
  });

  it('GET /api/analytics answers the daily and hourly documents, operator-only, 400 with a reason', async () => {
    expect((await fetch(`${url}/api/analytics?tenant=acme&day=${DAY}`)).status).toBe(401);
    const res = await fetch(`${url}/api/analytics?tenant=acme&day=${DAY}`, { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { daily: { calls: number; avgDurationMs: number }; hours: { hour: number; calls: number }[] };
    expect(body.daily).toMatchObject({ calls: 6, avgDurationMs: 26_833 });
    expect(body.hours.map((h) => h.calls)).toEqual([3, 2, 1]);
    expect(JSON.stringify(body)).not.toContain('seen');
    const empty = (await (await fetch(`${url}/api/analytics?tenant=acme&day=2026-03-15`, { headers: auth })).json()) as { daily: unknown; hours: unknown[] };
    expect(empty).toMatchObject({ daily: null, hours: [] });
    for (const [q, reason] of [
      [`day=${DAY}`, /tenant is required/],
      [`tenant=acme`, /day is required/],
      [`tenant=acme&day=2026-02-30`, /YYYY-MM-DD/],
      [`tenant=acme&day=14-03-2026`, /YYYY-MM-DD/],
      [`tenant=a%20b&day=${DAY}`, /tenant must be/],
    ] as const) {
      const bad = await fetch(`${url}/api/analytics?${q}`, { headers: auth });
      expect(bad.status, q).toBe(400);
      expect(JSON.stringify(await bad.json()), q).toMatch(reason);
    }
  });
});
