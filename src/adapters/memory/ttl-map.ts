// A Map whose entries expire: TTL semantics for the in-process backend. Expired entries are dropped
// on read and by a periodic sweep, so memory stays bounded by what is live.
import type { Clock } from '../../domain/ports.js';

export class TtlMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  #sweeps = 0;

  constructor(private readonly clock: Clock) {}

  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V, ttlSeconds: number): void {
    this.#entries.set(key, { value, expiresAt: this.clock.now() + ttlSeconds * 1000 });
    if (++this.#sweeps % 1024 === 0) this.sweep();
  }

  /** Set if absent (or expired). True when this call set it. */
  setNx(key: string, value: V, ttlSeconds: number): boolean {
    if (this.has(key)) return false;
    this.set(key, value, ttlSeconds);
    return true;
  }

  /** Refreshes the TTL of a live entry. */
  touch(key: string, ttlSeconds: number): boolean {
    const e = this.#entries.get(key);
    if (!e || e.expiresAt <= this.clock.now()) return false;
    e.expiresAt = this.clock.now() + ttlSeconds * 1000;
    return true;
  }

  /** Remaining TTL in seconds, -2 when absent (Redis TTL semantics). */
  ttl(key: string): number {
    const e = this.#entries.get(key);
    if (!e || e.expiresAt <= this.clock.now()) return -2;
    return Math.ceil((e.expiresAt - this.clock.now()) / 1000);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  sweep(): void {
    const now = this.clock.now();
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
  }

  get size(): number {
    return this.#entries.size;
  }
}
