// The in-process tier of the TTS cache: least recently used audio first out, bounded by bytes
// (TTS_CACHE_MEMORY_MB). A replica answers the sentences it speaks often (greetings, fillers, fixed
// answers) from here without a Redis round trip. Audio by content hash never goes stale, so there is
// no TTL: the byte bound is what keeps it small. Entries larger than an eighth of the bound are not kept.
import type { TtsCache } from '../../domain/ports.js';

export class LruTtsCache implements TtsCache {
  // Map iteration order is insertion order: the first key is the least recently used.
  readonly #map = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(private readonly cfg: { maxBytes: number }) {}

  /** Bytes of audio held. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The held bytes, not a copy: callers must not modify them. */
  peek(key: string): Uint8Array | null {
    const v = this.#map.get(key);
    if (v === undefined) return null;
    this.#map.delete(key);
    this.#map.set(key, v);
    return v;
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.peek(key);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    return keys.map((k) => this.peek(k));
  }

  async put(key: string, audio: Uint8Array): Promise<void> {
    this.set(key, audio);
  }

  /** Keeps a copy of `audio`, evicting the least recently used entries beyond the bound. */
  set(key: string, audio: Uint8Array): void {
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#map.delete(key);
      this.#bytes -= old.byteLength;
    }
    if (audio.byteLength === 0 || audio.byteLength > this.cfg.maxBytes / 8) return;
    this.#map.set(key, new Uint8Array(audio));
    this.#bytes += audio.byteLength;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.cfg.maxBytes) break;
      this.#map.delete(k);
      this.#bytes -= v.byteLength;
    }
  }
}
