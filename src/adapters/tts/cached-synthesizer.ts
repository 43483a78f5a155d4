// A Synthesizer in front of another, backed by the TtsCache port (Redis in production, TTL_TTS).
// Key: sha256 over engine id (engine + voice), sample rate and text. A hit skips synthesis.
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

export class CachedSynthesizer implements Synthesizer {
  readonly id: string;
  hits = 0;
  misses = 0;

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

  async synthesize(text: string, sampleRate: number, signal: AbortSignal): Promise<Int16Array> {
    const key = ttsCacheKey(this.id, sampleRate, text);
    let cached: Uint8Array | null = null;
    try {
      cached = await this.deps.cache.get(key);
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
