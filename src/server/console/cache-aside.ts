// Cache-aside for the console's views, one module for all of them: read the entry; on a miss load
// it from its source, store it with the cache's TTL and answer. Concurrent misses of one cache in
// this process share one load. Each entry is stored with its ETag (a hash of the body), so a view
// answers 304 to If-None-Match without re-serializing. Hit/miss/error counts per cache go to
// voice_console_cache_total{cache,result}; hits() gives the same figures for reports.
import { createHash } from 'node:crypto';
import type { ConsoleStore } from '../../domain/console/console-store.js';
import { counter, type Registry } from '../../metrics.js';

export interface CachedView {
  readonly body: string;
  readonly etag: string;
}

export interface CacheSpec {
  readonly name: string;
  readonly ttlS: number;
  /** Builds the view from its source (a JSON-serializable value). */
  readonly load: () => Promise<unknown>;
}

export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

export class CacheAside {
  readonly #specs = new Map<string, CacheSpec>();
  readonly #loading = new Map<string, Promise<CachedView>>();
  /** Bumped by invalidate(): a load that started before it must not store what it read. */
  readonly #generation = new Map<string, number>();
  readonly #refreshing = new Map<string, NodeJS.Timeout>();
  readonly #counts = new Map<string, { hit: number; miss: number; error: number }>();
  readonly #metric;

  constructor(private readonly deps: { readonly store: ConsoleStore; readonly registry: Registry }) {
    this.#metric = counter(deps.registry, 'voice_console_cache_total', 'Console view cache lookups by cache and result (hit, miss, error)', ['cache', 'result']);
  }

  define(spec: CacheSpec): void {
    this.#specs.set(spec.name, spec);
    this.#counts.set(spec.name, { hit: 0, miss: 0, error: 0 });
  }

  async get(name: string): Promise<CachedView> {
    const spec = this.#specs.get(name);
    if (!spec) throw new Error(`unknown cache '${name}'`);
    let raw: string | null = null;
    try {
      raw = await this.deps.store.cacheGet(name);
    } catch {
      this.#count(name, 'error');
    }
    if (raw !== null) {
      const i = raw.indexOf('\n');
      if (i > 0) {
        this.#count(name, 'hit');
        return { etag: raw.slice(0, i), body: raw.slice(i + 1) };
      }
    }
    this.#count(name, 'miss');
    return this.#load(spec);
  }

  /** Drops an entry (a significant event changed its source); the next read loads it again. */
  async invalidate(name: string): Promise<void> {
    this.#generation.set(name, (this.#generation.get(name) ?? 0) + 1);
    this.#loading.delete(name);
    await this.deps.store.cacheDel(name).catch(() => this.#count(name, 'error'));
  }

  /**
   * Reloads an entry from its source soon (events come in bursts: one reload per `debounceMs`), so
   * the next read finds it fresh rather than missing; a read meanwhile may still get the old entry.
   */
  refreshSoon(name: string, debounceMs = 100): void {
    const spec = this.#specs.get(name);
    if (!spec || this.#refreshing.has(name)) return;
    const t = setTimeout(() => {
      this.#refreshing.delete(name);
      this.#generation.set(name, (this.#generation.get(name) ?? 0) + 1);
      this.#loading.delete(name);
      this.#load(spec).catch(() => this.#count(name, 'error'));
    }, debounceMs);
    t.unref();
    this.#refreshing.set(name, t);
  }

  /** Stops pending refreshes (shutdown). */
  close(): void {
    for (const t of this.#refreshing.values()) clearTimeout(t);
    this.#refreshing.clear();
  }

  /** Loads every cache once (start-up), so the first console to open finds them warm. */
  async warm(): Promise<void> {
    await Promise.all([...this.#specs.values()].map((s) => this.#load(s).catch(() => undefined)));
  }

  /** Hits, misses and the hit ratio per cache since start. */
  stats(): Record<string, { hit: number; miss: number; error: number; ratio: number }> {
    const out: Record<string, { hit: number; miss: number; error: number; ratio: number }> = {};
    for (const [name, c] of this.#counts) out[name] = { ...c, ratio: c.hit + c.miss > 0 ? c.hit / (c.hit + c.miss) : 0 };
    return out;
  }

  #load(spec: CacheSpec): Promise<CachedView> {
    const running = this.#loading.get(spec.name);
    if (running) return running;
    const generation = this.#generation.get(spec.name) ?? 0;
    const p = (async () => {
      const body = JSON.stringify(await spec.load());
      const view = { body, etag: etagOf(body) };
      if ((this.#generation.get(spec.name) ?? 0) !== generation) return view;
      await this.deps.store.cacheSet(spec.name, `${view.etag}\n${body}`, spec.ttlS).catch(() => this.#count(spec.name, 'error'));
      return view;
    })().finally(() => {
      if (this.#loading.get(spec.name) === p) this.#loading.delete(spec.name);
    });
    this.#loading.set(spec.name, p);
    return p;
  }

  #count(name: string, result: 'hit' | 'miss' | 'error'): void {
    const c = this.#counts.get(name);
    if (c) c[result]++;
    this.#metric.inc({ cache: name, result });
  }
}
