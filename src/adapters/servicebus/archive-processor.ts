// One archive message, whichever queue it came from: unpack, validate, write the transcript
// (idempotent), put the call summary in the session store, drop the claim. Returns what the
// caller must do with the message: done, retry later (throttled/unavailable), or dead-letter.
import type { SessionStore } from '../../domain/ports.js';
import { validateArchiveJob } from '../../domain/archive/job-validation.js';
import { throttleDelayMs } from '../../domain/archive/message-plan.js';
import type { ClaimStore } from '../cosmos/cosmos-claim-store.js';
import { classifyCosmosError, type CosmosFailure } from '../cosmos/cosmos-containers.js';
import { toDocument, type WriteResult } from '../cosmos/cosmos-archive-store.js';
import type { ArchiveJob, TranscriptDocument } from '../../domain/archive-job.js';
import { counter, histogram, type Registry } from '../../metrics.js';
import { unpackJob } from './job-codec.js';
import { summaryOf } from '../../domain/archive/call-summary.js';
import type { CallAnalytics } from '../cosmos/cosmos-analytics-store.js';

/** The write side the processor needs (CosmosArchiveStore, or a fake in unit tests). */
export interface TranscriptWriter {
  /** `bytes`: the job's size as received, when known (lets the store batch small documents). */
  write(doc: TranscriptDocument, bytes?: number): Promise<WriteResult>;
  getTranscript(callId: string): Promise<TranscriptDocument | null>;
}

export type ProcessResult =
  | { readonly kind: 'archived'; readonly write: WriteResult; readonly callId: string }
  | { readonly kind: 'retry'; readonly afterMs: number; readonly reason: 'throttled' | 'unavailable' }
  | { readonly kind: 'poison'; readonly reason: string; readonly description: string };

export interface ProcessorDeps {
  readonly store: TranscriptWriter;
  readonly sessions: SessionStore | null;
  readonly claims: ClaimStore | null;
  readonly registry: Registry;
  readonly now?: () => number;
  readonly classify?: (err: unknown) => CosmosFailure;
  /** Per-tenant call aggregates, updated after the transcript is written (idempotent per call id). */
  readonly analytics?: CallAnalytics | null;
}

const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export class ArchiveProcessor {
  readonly #now: () => number;
  readonly #classify: (err: unknown) => CosmosFailure;
  readonly #results;
  readonly #throttles;
  readonly #latency;
  readonly #lag;
  readonly #aggregates;
  readonly #aggregateFailures;

  constructor(private readonly deps: ProcessorDeps) {
    this.#now = deps.now ?? Date.now;
    this.#classify = deps.classify ?? classifyCosmosError;
    this.#results = counter(deps.registry, 'voice_archive_results_total', 'Archive messages by result', ['result']);
    this.#throttles = counter(deps.registry, 'voice_archive_throttles_total', 'Archive writes throttled or refused by the store', ['status']);
    this.#latency = histogram(deps.registry, 'voice_archive_write_seconds', 'Archive store write latency');
    this.#lag = histogram(deps.registry, 'voice_archive_lag_seconds', 'Call end to transcript archived', [], LAG_BUCKETS);
    this.#aggregates = counter(deps.registry, 'voice_analytics_updates_total', 'Call aggregate documents updated by the archiver', ['grain', 'result']);
    this.#aggregateFailures = counter(deps.registry, 'voice_analytics_patch_failures_total', 'Call aggregate patches that failed (transient: the job is retried; final: not counted)', ['kind']);
  }

  async process(body: unknown, props: Record<string, unknown>, attempt: number): Promise<ProcessResult> {
    try {
      return await this.#process(body, props);
    } catch (err) {
      const f = this.#classify(err);
      if (f.kind === 'final') {
        this.#results.inc({ result: 'poison' });
        return { kind: 'poison', reason: 'StoreRejected', description: `archive store answered ${f.status}` };
      }
      this.#throttles.inc({ status: String(f.status) });
      this.#results.inc({ result: f.kind });
      const afterMs = throttleDelayMs(f.kind === 'throttled' ? f.retryAfterMs : undefined, attempt);
      return { kind: 'retry', afterMs, reason: f.kind === 'throttled' ? 'throttled' : 'unavailable' };
    }
  }

  async #process(body: unknown, props: Record<string, unknown>): Promise<ProcessResult> {
    const unpacked = await unpackJob(body, props, this.deps.claims);
    if (!unpacked.ok) {
      if (unpacked.claimMissing && unpacked.claimId && (await this.deps.store.getTranscript(unpacked.claimId))) {
        // Archived before; the claim was removed after that. A redelivery changes nothing.
        this.#results.inc({ result: 'unchanged' });
        return { kind: 'archived', write: 'unchanged', callId: unpacked.claimId };
      }
      this.#results.inc({ result: 'poison' });
      return { kind: 'poison', reason: 'UnreadableJob', description: unpacked.reason };
    }
    const v = validateArchiveJob(unpacked.value);
    if (!v.ok) {
      this.#results.inc({ result: 'poison' });
      return { kind: 'poison', reason: 'InvalidJob', description: v.reason };
    }
    const job = v.job;
    const started = performance.now();
    const write = await this.deps.store.write(toDocument(job, this.#now(), unpacked.json), unpacked.json.length);
    this.#latency.observe((performance.now() - started) / 1000);
    this.#results.inc({ result: write });
    if (write !== 'unchanged') this.#lag.observe(Math.max(0, this.#now() - job.endedAt) / 1000);
    await this.#count(job);
    if (unpacked.claimId) await this.deps.claims?.delete(unpacked.claimId).catch(() => undefined);
    await this.deps.sessions?.putSummary(job.callId, summaryOf(job)).catch(() => undefined);
    return { kind: 'archived', write, callId: job.callId };
  }

  /**
   * After the transcript write, so a job counts only once archived. A transient failure throws (the
   * job is retried: the transcript write is then 'unchanged' and the patch, idempotent per call id,
   * counts it once); a final one (the store refused the patch) is counted in a metric, not retried.
   */
  async #count(job: ArchiveJob): Promise<void> {
    if (!this.deps.analytics) return;
    try {
      const r = await this.deps.analytics.record(job);
      this.#aggregates.inc({ grain: 'day', result: r.day });
      this.#aggregates.inc({ grain: 'hour', result: r.hour });
    } catch (err) {
      const f = this.#classify(err);
      this.#aggregateFailures.inc({ kind: f.kind });
      if (f.kind !== 'final') throw err;
    }
  }
}

/**
 * Holds new work back while the store is throttling: every worker waits for the same deadline.
 * All waiters share one timer and one listener on the owner's stop signal, however many messages
 * are held (a listener per waiting message would pile up on that long-lived signal).
 */
export class ThrottleGate {
  #until = 0;
  #timer: Promise<void> | null = null;

  constructor(private readonly signal?: AbortSignal) {}

  block(ms: number): void {
    this.#until = Math.max(this.#until, Date.now() + ms);
  }

  get blockedForMs(): number {
    return Math.max(0, this.#until - Date.now());
  }

  /** Resolves once no block is in force, or at once when the stop signal has fired. */
  async wait(): Promise<void> {
    for (;;) {
      const ms = this.blockedForMs;
      if (ms <= 0 || this.signal?.aborted) return;
      this.#timer ??= sleep(ms, this.signal).finally(() => {
        this.#timer = null;
      });
      await this.#timer;
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
