// The TTS cache as the turn sees it: the in-process LRU first, the shared cache (Redis) second. A
// lookup the LRU answers costs no round trip; several sentences missing from it are asked of the
// shared cache together (getMany: one pipelined round trip); what the shared cache returns is kept in
// the LRU. A store goes to the LRU at once and to the shared cache on the next turn of the event loop,
// after the sentence just synthesized has been handed to the media outlet, so no write is sent ahead
// of the turn's first frame.
import type { TtsCache } from '../../domain/ports.js';
import type { LruTtsCache } from '../memory/lru-tts-cache.js';

export interface TtsTierCounters {
  /** A lookup answered by the given tier (misses of both are counted by CachedSynthesizer). */
  hit(tier: 'memory' | 'shared'): void;
}

export class TieredTtsCache implements TtsCache {
  constructor(private readonly deps: { near: LruTtsCache; far: TtsCache; counters?: TtsTierCounters }) {}

  async get(key: string): Promise<Uint8Array | null> {
    return (await this.getMany([key]))[0] ?? null;
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    const { near, far, counters } = this.deps;
    const out = keys.map((k) => near.peek(k));
    const missing: number[] = [];
    for (let i = 0; i < out.length; i++) {
      if (out[i] === null) missing.push(i);
      else counters?.hit('memory');
    }
    if (missing.length === 0) return out;
    const found = await far.getMany(missing.map((i) => keys[i] as string));
    for (let j = 0; j < missing.length; j++) {
      const audio = found[j] ?? null;
      if (audio === null) continue;
      const i = missing[j] as number;
      out[i] = audio;
      near.set(keys[i] as string, audio);
      counters?.hit('shared');
    }
    return out;
  }

  put(key: string, audio: Uint8Array): Promise<void> {
    this.deps.near.set(key, audio);
    return new Promise<void>((resolve, reject) => {
      setImmediate(() => this.deps.far.put(key, audio).then(resolve, reject));
    });
  }
}
