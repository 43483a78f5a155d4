// The TTS cache is an optimisation: when Redis is unreachable a lookup is a miss and a store is
// skipped (counted), so synthesis goes on and no turn waits for, or fails on, the cache.
import type { TtsCache } from '../../domain/ports.js';
import { counter, type Registry } from '../../metrics.js';
import { isBackendDown } from './redis-errors.js';

export class ResilientTtsCache implements TtsCache {
  readonly #skipped;

  constructor(private readonly deps: { inner: TtsCache; isUp: () => boolean; registry: Registry }) {
    this.#skipped = counter(deps.registry, 'voice_tts_cache_unavailable_total', 'TTS cache operations skipped because Redis was unreachable', ['op']);
  }

  async get(key: string): Promise<Uint8Array | null> {
    if (!this.deps.isUp()) return this.#skip('get', null);
    try {
      return await this.deps.inner.get(key);
    } catch (err) {
      if (!isBackendDown(err)) throw err;
      return this.#skip('get', null);
    }
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    if (!this.deps.isUp()) return this.#skip('get', keys.map(() => null));
    try {
      return await this.deps.inner.getMany(keys);
    } catch (err) {
      if (!isBackendDown(err)) throw err;
      return this.#skip('get', keys.map(() => null));
    }
  }

  async put(key: string, audio: Uint8Array): Promise<void> {
    if (!this.deps.isUp()) return this.#skip('put', undefined);
    try {
      await this.deps.inner.put(key, audio);
    } catch (err) {
      if (!isBackendDown(err)) throw err;
      this.#skip('put', undefined);
    }
  }

  #skip<T>(op: 'get' | 'put', value: T): T {
    this.#skipped.inc({ op });
    return value;
  }
}
