// Hot → cold for counters (issue 18 item 6): hot counters live in Redis hashes with a TTL (the
// console's per-day call counters, TTL_CONSOLE_DAY); a background compaction copies each one to
// Cosmos while its key is still alive, and a read goes to Redis first, then to the Cosmos copy, which
// is then re-cached in Redis with the type's TTL. A counter thus outlives its Redis key.
//
// Compaction runs every `intervalMs` on every replica (idempotent: a copy unchanged since the last
// pass is not written again; an older snapshot never overwrites a newer one). Keys are written with
// their TTL refreshed on every increment, so a counter stops changing at least TTL before it expires:
// any interval shorter than the TTL copies its final value. It compacts the counters of today and
// yesterday (UTC): yesterday's last increments land after midnight's first pass.

/** What a compaction did with one counter's copy. */
export type SaveResult = 'written' | 'unchanged' | 'stale';

export interface HotCounterSource {
  /** The counter family (document kind in Cosmos), e.g. `consoleDay`. */
  readonly counter: string;
  /** The counter names a pass compacts (e.g. today's and yesterday's day). */
  names(now: number): string[];
  read(name: string): Promise<Record<string, number>>;
  /** Puts a cold copy back in Redis with the type's TTL, unless the key came back meanwhile. */
  restore(name: string, fields: Readonly<Record<string, number>>): Promise<void>;
}

export interface ColdCounters {
  save(counter: string, name: string, fields: Readonly<Record<string, number>>, at: number): Promise<SaveResult>;
  load(counter: string, name: string): Promise<{ fields: Record<string, number>; compactedAt: number } | null>;
}

export interface CompactorHooks {
  readonly onResult?: (result: SaveResult | 'failed' | 'empty') => void;
  /** A whole pass succeeded at `at` (compaction lag is measured from the last one). */
  readonly onPass?: (at: number) => void;
  readonly onError?: (err: unknown, name: string) => void;
}

export function utcDays(now: number): string[] {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return [day(now), day(now - 86_400_000)];
}

export class HotCounterCompactor {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(
    private readonly deps: { readonly source: HotCounterSource; readonly cold: ColdCounters; readonly now: () => number; readonly hooks?: CompactorHooks },
    private readonly cfg: { readonly intervalMs: number },
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.cfg.intervalMs);
    this.#timer.unref();
    void this.runOnce();
  }

  /** Stops the timer; a final pass copies what changed since the last one (shutdown). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
    await this.runOnce();
  }

  /** One pass over the source's counters; never throws (failures go to the hooks). */
  runOnce(): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = this.#pass().finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(): Promise<void> {
    const { source, cold, hooks } = this.deps;
    const at = this.deps.now();
    let ok = true;
    for (const name of source.names(at)) {
      try {
        const fields = await source.read(name);
        if (Object.keys(fields).length === 0) {
          hooks?.onResult?.('empty');
          continue;
        }
        hooks?.onResult?.(await cold.save(source.counter, name, fields, at));
      } catch (err) {
        ok = false;
        hooks?.onResult?.('failed');
        hooks?.onError?.(err, name);
      }
    }
    if (ok) hooks?.onPass?.(at);
  }
}

export type CounterSource = 'redis' | 'cosmos' | 'none';

/**
 * Redis first, the Cosmos copy second (re-cached in Redis with the type's TTL). A Redis failure falls
 * through to Cosmos; a failed re-cache is reported, the value still returned.
 */
export async function readHotCold(
  deps: { readonly source: HotCounterSource; readonly cold: ColdCounters; readonly onRead?: (source: CounterSource) => void; readonly onRecacheError?: (err: unknown) => void },
  name: string,
): Promise<{ fields: Record<string, number>; source: CounterSource }> {
  const hot = await deps.source.read(name).catch(() => ({}) as Record<string, number>);
  if (Object.keys(hot).length > 0) {
    deps.onRead?.('redis');
    return { fields: hot, source: 'redis' };
  }
  const copy = await deps.cold.load(deps.source.counter, name);
  if (!copy) {
    deps.onRead?.('none');
    return { fields: {}, source: 'none' };
  }
  deps.onRead?.('cosmos');
  await deps.source.restore(name, copy.fields).catch((err: unknown) => deps.onRecacheError?.(err));
  return { fields: copy.fields, source: 'cosmos' };
}
