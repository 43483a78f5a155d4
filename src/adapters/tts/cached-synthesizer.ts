// A Synthesizer in front of another, backed by the TtsCache port (in production the in-process LRU,
// then Redis under TTL_TTS: tiered-tts-cache.ts). Key: sha256 over engine id (engine + voice), sample
// rate and text. A hit skips synthesis. prefetch() looks up the sentences the responder produced
// together in one getMany; synthesize() then awaits that answer instead of a lookup of its own.
import { createHash } from 'node:crypto';
import type { Synthesizer, TtsCache } from '../../domain/ports.js';
import type { DomainLogger } from '../../domain/live-call.js';

export interface TtsCacheCounters {
  hit(): void;
  miss(): void;
  error(): void;
}

export function ttsCacheKey(engineId: string, sampleRate: number, text: string): string {
  const h = createHash('sha256');
  h.update(engineId).update('\0').update(String(sampleRate)).update('\0').update(text.replace(/\s+/g, ' ').trim());
  return h.digest('hex');
}

/** Prefetched lookups not yet consumed (a turn cut short leaves some): the oldest are dropped beyond it. */
const MAX_PREFETCHED = 256;

export class CachedSynthesizer implements Synthesizer {
  readonly id: string;
  hits = 0;
  misses = 0;
  readonly #prefetched = new Map<string, Promise<Uint8Array | null>>();

  constructor(
    private readonly deps: { inner: Synthesizer; cache: TtsCache; counters?: TtsCacheCounters },
    private readonly log: DomainLogger,
  ) {
    this.id = deps.inner.id;
  }

  get hitRatio(): number {
    const total = this.hits + this.misses;
    return total === 0 ? 0 : this.hits / total;
  }

  prefetch(texts: readonly string[], sampleRate: number): void {
    const keys = [...new Set(texts.map((t) => ttsCacheKey(this.id, sampleRate, t)))].filter((k) => !this.#prefetched.has(k));
    if (keys.length === 0) return;
    let all: Promise<(Uint8Array | null)[]>;
    try {
      all = this.deps.cache.getMany(keys);
    } catch (err) {
      all = Promise.reject(err as Error);
    }
    keys.forEach((k, i) => {
      const one = all.then((r) => r[i] ?? null);
      one.catch(() => undefined); // observed by synthesize(), or dropped unconsumed
      this.#prefetched.set(k, one);
    });
    for (const k of this.#prefetched.keys()) {
      if (this.#prefetched.size <= MAX_PREFETCHED) break;
      this.#prefetched.delete(k);
    }
  }

  async synthesize(text: string, sampleRate: number, signal: AbortSignal): Promise<Int16Array> {
    const key = ttsCacheKey(this.id, sampleRate, text);
    let cached: Uint8Array | null = null;
    const prefetched = this.#prefetched.get(key);
    if (prefetched) this.#prefetched.delete(key);
    try {
      cached = await (prefetched ?? this.deps.cache.get(key));
    } catch (err) {
      this.deps.counters?.error();
      this.log.warn({ err }, 'tts cache read failed; synthesizing');
    }
    if (cached && cached.byteLength % 2 === 0) {
      this.hits++;
      this.deps.counters?.hit();
      const copy = new Uint8Array(cached); // aligned copy, independent of the cache's buffer
      return new Int16Array(copy.buffer, 0, copy.byteLength / 2);
    }
    this.misses++;
    this.deps.counters?.miss();
    const pcm = await this.deps.inner.synthesize(text, sampleRate, signal);
    const bytes = new Uint8Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
    this.deps.cache.put(key, bytes).catch((err: unknown) => {
      this.deps.counters?.error();
      this.log.warn({ err }, 'tts cache write failed');
    });
    return pcm;
  }
}
