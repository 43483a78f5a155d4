// The `analytics` container (partition key /pk = tenant|day): per-tenant daily and hourly call
// aggregates (see domain/analytics/call-aggregates.ts for the idempotent one-patch design) and the
// compacted copies of hot Redis counters (hot-counter-compactor.ts). Each aggregate document takes
// ONE conditional patch per call: 200 counted; 412 already counted (a redelivered job); 404 the
// document does not exist yet → created with the call counted (409: another archiver created it
// meanwhile → the patch again). Not a transactional batch: the local stand-in has no patch in batch,
// and two single-document patches need no batch (each is idempotent on its own).
import type { Container, PatchOperation } from '@azure/cosmos';
import type { ArchiveJob } from '../../domain/archive-job.js';
import {
  aggregateTargets,
  countPatch,
  firstDocument,
  partitionOf,
  viewOf,
  type AggregateDocument,
  type AggregateGrain,
  type AggregateView,
} from '../../domain/analytics/call-aggregates.js';
import { isConflict, isNotFound } from './cosmos-containers.js';

export type AggregateResult = 'counted' | 'created' | 'duplicate';

const isPreconditionFailed = (err: unknown) => (err as { code?: unknown }).code === 412;

export interface CallAnalytics {
  /** Counts a finalized call in its tenant's daily and hourly aggregates (idempotent per call id). */
  record(job: ArchiveJob): Promise<{ day: AggregateResult; hour: AggregateResult }>;
}

export class CosmosAnalyticsStore implements CallAnalytics {
  constructor(private readonly container: Container) {}

  async record(job: ArchiveJob): Promise<{ day: AggregateResult; hour: AggregateResult }> {
    const t = aggregateTargets(job);
    const [day, hour] = await Promise.all([this.#count(job, t.dayId, t.pk, 'day'), this.#count(job, t.hourId, t.pk, 'hour')]);
    return { day, hour };
  }

  async #count(job: ArchiveJob, id: string, pk: string, grain: AggregateGrain): Promise<AggregateResult> {
    const { operations, condition } = countPatch(job);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.container.item(id, pk).patch({ operations: operations as PatchOperation[], condition });
        return 'counted';
      } catch (err) {
        if (isPreconditionFailed(err)) return 'duplicate';
        if (!isNotFound(err) || attempt > 0) throw err;
      }
      try {
        await this.container.items.create(firstDocument(job, grain));
        return 'created';
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Created by another archiver between our patch and create: patch it (once more).
      }
    }
  }

  /** The tenant's daily document and its hourly documents (hour order); null day when no call counted. */
  async read(tenant: string, day: string): Promise<{ day: AggregateView | null; hours: AggregateView[] }> {
    const { resources } = await this.container.items
      .query<AggregateDocument>(
        { query: "SELECT * FROM c WHERE c.pk = @pk AND c.kind = 'call-aggregate'", parameters: [{ name: '@pk', value: partitionOf(tenant, day) }] },
        { partitionKey: partitionOf(tenant, day) },
      )
      .fetchAll();
    const daily = resources.find((d) => d.grain === 'day');
    const hours = resources
      .filter((d) => d.grain === 'hour')
      .sort((a, b) => (a.hour ?? 0) - (b.hour ?? 0))
      .map(viewOf);
    return { day: daily ? viewOf(daily) : null, hours };
  }
}
