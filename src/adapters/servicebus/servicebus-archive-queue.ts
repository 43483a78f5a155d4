// The sending side: ArchiveQueue over Service Bus. messageId = callId (duplicate detection), gzip
// when large, claim check when too large. When Service Bus is unreachable or refuses, the job goes
// to the on-disk spool; a background task drains the spool with backoff once Service Bus answers.
// On start the spool is drained too, so a crash between spooling and sending loses nothing.
import type { ServiceBusSender } from '@azure/service-bus';
import type { ArchiveJob } from '../../domain/archive-job.js';
import type { ArchiveQueue } from '../../domain/ports.js';
import { DEFAULT_MESSAGE_LIMITS, type MessageLimits } from '../../domain/archive/message-plan.js';
import type { Logger } from '../../logger.js';
import { counter, gauge, histogram, type Registry } from '../../metrics.js';
import type { ClaimStore } from '../cosmos/cosmos-claim-store.js';
import type { FileSpool } from '../spool/file-spool.js';
import { encodeJob, packJob } from './job-codec.js';
import { sleep } from './archive-processor.js';

export interface ServiceBusQueueConfig {
  readonly sendTimeoutMs: number;
  readonly drainMinMs: number;
  readonly drainMaxMs: number;
}

export const DEFAULT_QUEUE_CONFIG: ServiceBusQueueConfig = { sendTimeoutMs: 5000, drainMinMs: 250, drainMaxMs: 30_000 };

export function spoolMetrics(registry: Registry, depth: () => number) {
  gauge(registry, 'voice_archive_spool_depth', 'Archive jobs waiting in the on-disk spool', [], function collect() {
    this.set(depth());
  });
  return {
    writes: counter(registry, 'voice_archive_spool_writes_total', 'Archive jobs written to the spool'),
    drainRetries: counter(registry, 'voice_archive_spool_drain_retries_total', 'Spool drain attempts that failed and backed off'),
    writeFailures: counter(registry, 'voice_archive_spool_write_failures_total', 'Spool writes that failed (the job is kept in memory and retried)'),
    movedAside: counter(registry, 'voice_archive_spool_dead_letters_total', 'Spool entries moved to <spool>/dead-letter (unreadable or not a job)'),
  };
}

export class ServiceBusArchiveQueue implements ArchiveQueue {
  readonly #metrics;
  readonly #sent;
  readonly #sendSeconds;
  readonly #stop = new AbortController();
  #limits: MessageLimits | null = null;
  #draining: Promise<void> | null = null;
  #kick: (() => void) | null = null;
  /** Jobs neither Service Bus nor the spool took (disk full, spool dir gone): kept and retried, never dropped. */
  readonly #unspooled: { readonly id: string; readonly json: Buffer }[] = [];

  constructor(
    private readonly deps: { sender: ServiceBusSender; spool: FileSpool; claims: ClaimStore | null; registry: Registry; log: Logger },
    private readonly cfg: ServiceBusQueueConfig = DEFAULT_QUEUE_CONFIG,
  ) {
    this.#metrics = spoolMetrics(deps.registry, () => deps.spool.depth);
    this.#sent = counter(deps.registry, 'voice_archive_enqueued_total', 'Archive jobs handed to the queue', ['path']);
    this.#sendSeconds = histogram(deps.registry, 'voice_archive_send_seconds', 'Archive message send latency');
  }

  /** Drains what an earlier run left in the spool, then keeps draining in the background. */
  start(): void {
    this.#draining ??= this.#drainLoop();
  }

  async enqueue(job: ArchiveJob): Promise<void> {
    const json = encodeJob(job);
    try {
      await this.#send(job.callId, json);
      this.#sent.inc({ path: 'direct' });
    } catch (err) {
      this.deps.log.warn({ err, callId: job.callId }, 'archive send failed; spooling');
      try {
        await this.deps.spool.write(job.callId, json);
        this.#metrics.writes.inc();
        this.#sent.inc({ path: 'spool' });
      } catch (spoolErr) {
        this.#metrics.writeFailures.inc();
        this.#unspooled.push({ id: job.callId, json });
        this.#sent.inc({ path: 'memory' });
        this.deps.log.error({ err: spoolErr, callId: job.callId, held: this.#unspooled.length }, 'spool write failed; job kept in memory and retried');
      }
      this.#kick?.();
    }
  }

  /** Jobs held in memory because the spool could not take them (readiness reports 'degraded'). */
  get unspooled(): number {
    return this.#unspooled.length;
  }

  /** Sends or spools the jobs held in memory; throws (the loop backs off) while neither works. */
  async #retryUnspooled(): Promise<void> {
    while (this.#unspooled.length > 0) {
      const { id, json } = this.#unspooled[0] as { id: string; json: Buffer };
      try {
        await this.#send(id, json);
      } catch {
        try {
          await this.deps.spool.write(id, json);
          this.#metrics.writes.inc();
        } catch (err) {
          this.#metrics.writeFailures.inc();
          throw err;
        }
      }
      this.#unspooled.shift();
    }
  }

  async #limitsNow(): Promise<MessageLimits> {
    if (!this.#limits) {
      const batch = await this.deps.sender.createMessageBatch();
      this.#limits = { ...DEFAULT_MESSAGE_LIMITS, maxMessageBytes: batch.maxSizeInBytes };
    }
    return this.#limits;
  }

  async #send(callId: string, json: Buffer): Promise<void> {
    const started = performance.now();
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.cfg.sendTimeoutMs);
    try {
      const work = (async () => {
        const limits = await this.#limitsNow();
        const packed = await packJob(callId, json, limits, this.deps.claims);
        await this.deps.sender.sendMessages(
          { messageId: callId, body: packed.body, contentType: 'application/json', applicationProperties: packed.props },
          { abortSignal: ac.signal },
        );
      })();
      const timeout = new Promise<never>((_, reject) =>
        ac.signal.addEventListener('abort', () => reject(new Error(`send timed out after ${this.cfg.sendTimeoutMs} ms`)), { once: true }),
      );
      work.catch(() => undefined);
      await Promise.race([work, timeout]);
      this.#sendSeconds.observe((performance.now() - started) / 1000);
    } finally {
      clearTimeout(timer);
    }
  }

  async #drainLoop(): Promise<void> {
    const signal = this.#stop.signal;
    let delay = this.cfg.drainMinMs;
    while (!signal.aborted) {
      let failed = false;
      try {
        await this.#retryUnspooled();
        for (const e of await this.deps.spool.list()) {
          if (signal.aborted) break;
          const json = await this.#readEntry(e.name);
          if (!json) continue;
          await this.#send(e.id, json);
          await this.deps.spool.remove(e.name);
        }
      } catch (err) {
        failed = true;
        this.#metrics.drainRetries.inc();
        this.deps.log.debug({ err }, 'spool drain failed; backing off');
      }
      if (failed) {
        await sleep(delay * (0.5 + Math.random() / 2), signal);
        delay = Math.min(delay * 2, this.cfg.drainMaxMs);
        continue;
      }
      delay = this.cfg.drainMinMs;
      if (this.deps.spool.depth > 0 || this.#unspooled.length > 0) continue;
      // Idle until a job is spooled (or a slow safety poll).
      // The abort listener goes when the wait ends, however it ends: one per wait would pile up
      // on the queue's long-lived stop signal.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, this.cfg.drainMaxMs);
        this.#kick = done;
        signal.addEventListener('abort', done, { once: true });
      });
      this.#kick = null;
    }
  }

  /** An entry's job, or null when it was unreadable or not a job (then moved aside with its reason). */
  async #readEntry(name: string): Promise<Buffer | null> {
    let json: Buffer;
    let reason: string | null = null;
    try {
      json = await this.deps.spool.read(name);
      JSON.parse(json.toString('utf8'));
      return json;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      reason = err instanceof Error ? err.message : String(err);
    }
    this.#metrics.movedAside.inc();
    this.deps.log.error({ entry: name, reason }, 'spool entry is not a job; moved to dead-letter');
    await this.deps.spool.moveAside(name, reason);
    return null;
  }

  /** Spool entries waiting to be sent. */
  get spoolDepth(): number {
    return this.deps.spool.depth;
  }

  /**
   * Shutdown: stops the background drain, then sends what the spool holds (oldest first) until it
   * is empty, Service Bus refuses, or `budgetMs` passes; closes the sender. Returns the entries left
   * on disk (a later replica on the same spool sends them).
   */
  async flush(budgetMs: number): Promise<string[]> {
    this.#stop.abort();
    this.#kick?.();
    await this.#draining?.catch(() => undefined);
    const until = Date.now() + budgetMs;
    try {
      await this.#retryUnspooled();
      for (const e of await this.deps.spool.list()) {
        if (Date.now() >= until) break;
        const json = await this.#readEntry(e.name);
        if (!json) continue;
        await this.#send(e.id, json);
        await this.deps.spool.remove(e.name);
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'spool flush stopped: Service Bus did not take the rest');
    }
    await this.deps.sender.close().catch(() => undefined);
    return (await this.deps.spool.list().catch(() => [])).map((e) => e.name);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#kick?.();
    await this.#draining?.catch(() => undefined);
    await this.deps.sender.close().catch(() => undefined);
  }
}
