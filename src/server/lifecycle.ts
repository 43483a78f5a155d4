// Process lifecycle: draining flag, in-flight work tracking, ordered shutdown hooks with a deadline.
// Shutdown runs in three stages: drain (live calls continue up to the drain deadline, then the ones
// still live are finalized), flush (what the drain produced is handed on: archive jobs from the
// spool to Service Bus, bounded by its own budget; flush hooks report what is left, and the last
// log line names it), close (servers, then clients, each bounded).
import type { Logger } from '../logger.js';

/** Upper bound on one close hook (closing a client, a server). */
const CLOSE_HOOK_TIMEOUT_MS = 5000;
/** Default budget of the flush stage (after the drain deadline). */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;

/** What a flush hook leaves behind (named in the last log line), e.g. { spoolLeft: [...] }. */
export type FlushReport = Record<string, unknown> | void;
type FlushHook = { readonly name: string; readonly fn: (budgetMs: number) => Promise<FlushReport> | FlushReport };

type Hook = { readonly name: string; readonly fn: () => Promise<void> | void };

export class Lifecycle {
  #draining = false;
  #stopped: Promise<void> | null = null;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #drainers: Hook[] = [];
  readonly #closers: Hook[] = [];
  readonly #flushers: FlushHook[] = [];

  constructor(
    private readonly cfg: { readonly drainTimeoutMs: number; readonly flushTimeoutMs?: number },
    private readonly log: Logger,
  ) {}

  get draining(): boolean {
    return this.#draining;
  }

  /** Tracks a unit of in-flight work (a turn, an archive job) so shutdown waits for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#inflight.add(work);
    const done = () => this.#inflight.delete(work);
    work.then(done, done);
    return work;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  /** Runs when draining starts, before the deadline: finish live calls, flush spools. Run in parallel. */
  onDrain(name: string, fn: () => Promise<void> | void): void {
    this.#drainers.push({ name, fn });
  }

  /**
   * Runs after the drain stage (every call finalized, or the drain deadline passed), in parallel,
   * within the flush budget it is given: hand on what draining produced (spool → Service Bus).
   * What it returns is logged in the last line.
   */
  onFlush(name: string, fn: (budgetMs: number) => Promise<FlushReport> | FlushReport): void {
    this.#flushers.push({ name, fn });
  }

  /** The drain deadline in ms (SHUTDOWN_DRAIN_TIMEOUT_MS). */
  get drainTimeoutMs(): number {
    return this.cfg.drainTimeoutMs;
  }

  /** Runs after draining, in reverse registration order: close servers, then clients. */
  onClose(name: string, fn: () => Promise<void> | void): void {
    this.#closers.push({ name, fn });
  }

  /** Idempotent. Stops taking work, drains up to the deadline, closes everything. */
  shutdown(reason: string): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#draining = true;
    this.#stopped = this.#run(reason);
    return this.#stopped;
  }

  async #run(reason: string): Promise<void> {
    const started = Date.now();
    this.log.info({ reason, inflight: this.#inflight.size, deadlineMs: this.cfg.drainTimeoutMs }, 'draining');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.cfg.drainTimeoutMs);
      timer.unref();
    });
    const drained = (async () => {
      await Promise.allSettled(
        this.#drainers.map(async (h) => {
          const t0 = Date.now();
          try {
            await h.fn();
            this.log.debug({ hook: h.name, ms: Date.now() - t0 }, 'drained');
          } catch (err) {
            this.log.error({ err, hook: h.name }, 'drain hook failed');
          }
        }),
      );
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      return 'drained' as const;
    })();
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log.warn({ inflight: this.#inflight.size }, 'drain deadline reached; closing with work in flight');
    }
    const left = await this.#flush();
    for (const h of [...this.#closers].reverse()) {
      const t0 = Date.now();
      let guard: NodeJS.Timeout | undefined;
      try {
        // A close hook that hangs (a peer that never answers) must not keep the process alive.
        const bounded = new Promise<'timeout'>((resolve) => {
          guard = setTimeout(() => resolve('timeout'), CLOSE_HOOK_TIMEOUT_MS);
          guard.unref();
        });
        const r = await Promise.race([Promise.resolve(h.fn()), bounded]);
        if (r === 'timeout') this.log.warn({ hook: h.name, ms: CLOSE_HOOK_TIMEOUT_MS }, 'close hook timed out; moving on');
        else this.log.debug({ hook: h.name, ms: Date.now() - t0 }, 'closed');
      } catch (err) {
        this.log.error({ err, hook: h.name }, 'close hook failed');
      } finally {
        clearTimeout(guard);
      }
    }
    this.log.info({ reason, ms: Date.now() - started, outcome, ...left }, 'stopped');
  }

  async #flush(): Promise<Record<string, unknown>> {
    const budget = this.cfg.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
    const left: Record<string, unknown> = {};
    await Promise.all(
      this.#flushers.map(async (h) => {
        let guard: NodeJS.Timeout | undefined;
        try {
          const bounded = new Promise<'timeout'>((resolve) => {
            // A little over the budget: the hook itself stops at its budget and reports.
            guard = setTimeout(() => resolve('timeout'), budget + 1000);
            guard.unref();
          });
          const r = await Promise.race([Promise.resolve(h.fn(budget)), bounded]);
          if (r === 'timeout') left[h.name] = 'flush timed out';
          else if (r) Object.assign(left, r);
        } catch (err) {
          this.log.error({ err, hook: h.name }, 'flush hook failed');
          left[h.name] = 'flush failed';
        } finally {
          clearTimeout(guard);
        }
      }),
    );
    return left;
  }
}

/** Wires SIGTERM/SIGINT and unhandled rejections to the lifecycle. Returns an unregister function. */
export function installProcessHandlers(lifecycle: Lifecycle, log: Logger, exit: (code: number) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    lifecycle.shutdown(signal).then(
      () => exit(0),
      (err: unknown) => {
        log.fatal({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  const onRejection = (reason: unknown) => {
    log.error({ err: reason }, 'unhandled promise rejection');
  };
  const onException = (err: Error) => {
    log.fatal({ err }, 'uncaught exception; shutting down');
    lifecycle.shutdown('uncaughtException').finally(() => exit(1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
