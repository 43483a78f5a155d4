// Per-tenant call aggregates (issue 18 item 7): one daily and one hourly document per tenant, each
// updated by ONE Cosmos patch per finalized call (increment operations), in the archiver, off the
// call path. Pure: which documents a call touches, and the patch that counts it.
//
// Idempotent per call id: the patch also appends the call's mark (a 64-bit hash of its id, lowercase
// hex) to the document's `seen` list, and is conditional on the mark being absent
// (`FROM c WHERE NOT ARRAY_CONTAINS(c.seen, '<mark>')`). Count and mark change in the same atomic
// single-document operation, so a redelivered archive job gets 412 (precondition failed) and counts
// nothing, and no crash can leave a call counted without its mark or marked without its count.
// Cost: 19 bytes per call in each document; a tenant's daily document reaches Cosmos's 2 MB item limit
// near 100,000 calls a day (shard the day by hour-of-day above that). A patch's RU charge grows with
// the document's size, so a very busy tenant's daily document gets dearer through the day; hourly
// documents stay small (bounded by an hour's calls). Above ~20,000 calls per tenant per day, prefer
// summing the hourly documents at read time over keeping the daily one.
// Docs: https://learn.microsoft.com/azure/cosmos-db/partial-document-update (incr adds a missing
// field; at most 10 operations per patch; a conditional patch whose predicate fails answers 412).
import { createHash } from 'node:crypto';
import type { ArchiveJob } from '../archive-job.js';

export type CallDirection = 'inbound' | 'outbound';

export const DEFAULT_ANALYTICS_TENANT = 'default';

export type AggregateGrain = 'day' | 'hour';

/** One aggregate document as stored (partition key `pk` = tenant|day: a day's docs share a partition). */
export interface AggregateDocument {
  readonly id: string;
  readonly pk: string;
  readonly kind: 'call-aggregate';
  readonly grain: AggregateGrain;
  readonly tenant: string;
  readonly day: string;
  /** 0-23 for an hourly document, null for the daily one. */
  readonly hour: number | null;
  readonly calls: number;
  readonly durationMsTotal: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly byDirection: Readonly<Record<string, number>>;
  readonly seen: readonly string[];
}

export interface AggregateView extends Omit<AggregateDocument, 'seen' | 'pk' | 'kind'> {
  readonly avgDurationMs: number;
}

export interface PatchOp {
  readonly op: 'incr' | 'add' | 'set';
  readonly path: string;
  readonly value: unknown;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const TENANT = /^[A-Za-z0-9_.-]{1,64}$/;

export const isDay = (s: string): boolean => DAY.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
export const isTenantId = (s: string): boolean => TENANT.test(s);

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function partitionOf(tenant: string, day: string): string {
  return `${tenant}|${day}`;
}

export function aggregateId(tenant: string, day: string, hour: number | null): string {
  return hour === null ? `agg:${tenant}:${day}` : `agg:${tenant}:${day}T${String(hour).padStart(2, '0')}`;
}

/** A call's mark in `seen`: lowercase hex (the local store lowercases predicates; Cosmos does not care). */
export function callMark(callId: string): string {
  return createHash('sha256').update(callId).digest('hex').slice(0, 16);
}

/** Where a call counts: the UTC day and hour it ended, for its tenant. */
export function aggregateTargets(job: Pick<ArchiveJob, 'endedAt' | 'tenantId'>): { tenant: string; day: string; hour: number; pk: string; dayId: string; hourId: string } {
  const tenant = job.tenantId ?? DEFAULT_ANALYTICS_TENANT;
  const day = utcDay(job.endedAt);
  const hour = new Date(job.endedAt).getUTCHours();
  return { tenant, day, hour, pk: partitionOf(tenant, day), dayId: aggregateId(tenant, day, null), hourId: aggregateId(tenant, day, hour) };
}

/** JSON Pointer escaping of one path segment (RFC 6901: ~ → ~0, / → ~1). */
const seg = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The one patch that counts a call in an existing aggregate document (5 operations; the limit is 10). */
export function countPatch(job: Pick<ArchiveJob, 'callId' | 'outcome' | 'startedAt' | 'endedAt' | 'direction'>): { operations: PatchOp[]; condition: string } {
  const mark = callMark(job.callId);
  return {
    operations: [
      { op: 'incr', path: '/calls', value: 1 },
      { op: 'incr', path: `/byOutcome/${seg(job.outcome)}`, value: 1 },
      { op: 'incr', path: `/byDirection/${seg(job.direction ?? 'inbound')}`, value: 1 },
      { op: 'incr', path: '/durationMsTotal', value: Math.max(0, Math.round(job.endedAt - job.startedAt)) },
      { op: 'add', path: '/seen/-', value: mark },
    ],
    condition: `FROM c WHERE NOT ARRAY_CONTAINS(c.seen, '${mark}')`,
  };
}

/** The document a call's first patch would find missing: created with that call already counted. */
export function firstDocument(job: Pick<ArchiveJob, 'callId' | 'outcome' | 'startedAt' | 'endedAt' | 'direction' | 'tenantId'>, grain: AggregateGrain): AggregateDocument {
  const t = aggregateTargets(job);
  return {
    id: grain === 'day' ? t.dayId : t.hourId,
    pk: t.pk,
    kind: 'call-aggregate',
    grain,
    tenant: t.tenant,
    day: t.day,
    hour: grain === 'day' ? null : t.hour,
    calls: 1,
    durationMsTotal: Math.max(0, Math.round(job.endedAt - job.startedAt)),
    byOutcome: { [job.outcome]: 1 },
    byDirection: { [job.direction ?? 'inbound']: 1 },
    seen: [callMark(job.callId)],
  };
}

export function viewOf(doc: AggregateDocument): AggregateView {
  return {
    id: doc.id,
    grain: doc.grain,
    tenant: doc.tenant,
    day: doc.day,
    hour: doc.hour,
    calls: doc.calls,
    durationMsTotal: doc.durationMsTotal,
    avgDurationMs: doc.calls > 0 ? Math.round(doc.durationMsTotal / doc.calls) : 0,
    byOutcome: doc.byOutcome,
    byDirection: doc.byDirection,
  };
}
