// The local default when no Service Bus is configured (single replica): the on-disk spool is the
// queue. enqueue() writes the job durably (fsync + rename) and wakes the in-process archiver, which
// processes spool entries with bounded concurrency and removes each only once it is archived; a
// poison entry moves to <spool>/dead-letter with its reason. Jobs of any size fit (no claim check).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { ArchiveJob } from '../../domain/archive-job.js';
import type { ArchiveQueue } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import { counter, type Registry } from '../../metrics.js';
import type { FileSpool } from '../spool/file-spool.js';
import { type ArchiveProcessor, ThrottleGate, sleep } from './archive-processor.js';
import { encodeJob } from './job-codec.js';
import { spoolMetrics } from './servicebus-archive-queue.js';

export class InProcessArchiveQueue implements ArchiveQueue {
  readonly #stop = new AbortController();
  readonly gate = new ThrottleGate(this.#stop.signal);
  readonly #metrics;
  readonly #deadLetters;
  readonly #pq: PQueue;
  readonly #busy = new Set<string>();
  #loop: Promise<void> | null = null;
  #kick: (() => void) | null = null;
  #pending = false;

  constructor(
    private readonly deps: { spool: FileSpool; processor: ArchiveProcessor | null; registry: Registry; log: Logger },
    private readonly cfg: { concurrency: number; pollMs: number } = { concurrency: 16, pollMs: 5000 },
  ) {
    this.#metrics = spoolMetrics(deps.registry, () => deps.spool.depth);
    this.#deadLetters = counter(deps.registry, 'voice_archive_dead_letters_total', 'Archive jobs dead-lettered', ['reason']);
    this.#pq = new PQueue({ concurrency: cfg.concurrency });
  }

  async enqueue(job: ArchiveJob): Promise<void> {
    await this.deps.spool.write(job.callId, encodeJob(job));
    this.#metrics.writes.inc();
    this.#pending = true;
    this.#kick?.();
  }

  /** Starts the in-process archiver (it also picks up what an earlier run left in the spool). */
  start(): void {
    if (!this.deps.processor) return;
    this.#loop ??= this.#run(this.deps.processor);
  }

  async #run(processor: ArchiveProcessor): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.#pending = false;
      await this.gate.wait();
      let entries: Awaited<ReturnType<FileSpool['list']>> = [];
      try {
        entries = await this.deps.spool.list();
      } catch (err) {
        this.deps.log.warn({ err }, 'spool list failed');
      }
      for (const e of entries) {
        if (signal.aborted || this.gate.blockedForMs > 0) break;
        if (this.#busy.has(e.name)) continue;
        if (this.#pq.size + this.#pq.pending >= this.cfg.concurrency) await this.#pq.onSizeLessThan(1);
        this.#busy.add(e.name);
        void this.#pq.add(() => this.#handle(processor, e.name).finally(() => this.#busy.delete(e.name)));
      }
      if (this.#pending || this.gate.blockedForMs > 0) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.cfg.pollMs);
        function done() {
          clearTimeout(t);
          signal.removeEventListener('abort', done); // one per wait would pile up on the stop signal
          resolve();
        }
        this.#kick = done;
        signal.addEventListener('abort', done, { once: true });
      });
      this.#kick = null;
    }
  }

  async #handle(processor: ArchiveProcessor, name: string): Promise<void> {
    try {
      const body = await this.deps.spool.read(name);
      for (let attempt = 1; !this.#stop.signal.aborted; attempt++) {
        const r = await processor.process(body, {}, attempt);
        if (r.kind === 'archived') {
          await this.deps.spool.remove(name);
          return;
        }
        if (r.kind === 'poison') {
          this.#deadLetters.inc({ reason: r.reason });
          const dir = join(this.deps.spool.dir, 'dead-letter');
          await mkdir(dir, { recursive: true });
          await writeFile(join(dir, name), body);
          await writeFile(join(dir, `${name}.reason`), `${r.reason}: ${r.description}\n`);
          await this.deps.spool.remove(name);
          return;
        }
        this.gate.block(r.afterMs);
        await this.gate.wait(); // at least r.afterMs: block() above set the deadline
      }
    } catch (err) {
      this.deps.log.error({ err }, 'spool entry failed; will retry');
    }
  }

  get spoolDepth(): number {
    return this.deps.spool.depth;
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    this.#stop.abort();
    this.#kick?.();
    await this.#loop?.catch(() => undefined);
    await Promise.race([this.#pq.onIdle(), sleep(timeoutMs)]);
  }
}
