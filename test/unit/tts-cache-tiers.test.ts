// The TTS cache in front of the synthesizer: a bounded in-process LRU first, the shared cache second;
// sentences known together are looked up together (one getMany), and a store reaches the shared
// cache only after the current turn of the event loop (after the frame that was just synthesized).
import { describe, expect, it } from 'vitest';
import { LruTtsCache } from '../../src/adapters/memory/lru-tts-cache.js';
import { TieredTtsCache } from '../../src/adapters/tts/tiered-tts-cache.js';
import { CachedSynthesizer } from '../../src/adapters/tts/cached-synthesizer.js';
import type { Synthesizer, TtsCache } from '../../src/domain/ports.js';
import { silentLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/config.js';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

/** A shared tier that records every call. */
class RecordingCache implements TtsCache {
  readonly map = new Map<string, Uint8Array>();
  readonly calls: string[] = [];
  async get(key: string) {
    this.calls.push(`get:${key}`);
    return this.map.get(key) ?? null;
  }
  async getMany(keys: readonly string[]) {
    this.calls.push(`getMany:${keys.join(',')}`);
    return keys.map((k) => this.map.get(k) ?? null);
  }
  async put(key: string, audio: Uint8Array) {
    this.calls.push(`put:${key}`);
    this.map.set(key, audio);
  }
}

describe('LruTtsCache', () => {
  it('is bounded by bytes: the least recently used go first, a read counts as a use', async () => {
    const lru = new LruTtsCache({ maxBytes: 1000 });
    lru.set('a', bytes(100));
    lru.set('b', bytes(100));
    lru.set('c', bytes(100));
    expect(lru.peek('a')).not.toBeNull(); // a is now the most recently used
    for (let i = 0; i < 8; i++) lru.set(`x${i}`, bytes(100)); // 1,100 bytes offered: one must go
    expect(lru.bytes).toBeLessThanOrEqual(1000);
    expect(lru.peek('b')).toBeNull();
    expect(lru.peek('a')).not.toBeNull();
    expect(lru.peek('c')).not.toBeNull();
    lru.set('c', bytes(50)); // replacing an entry counts its new size only
    expect(lru.bytes).toBe(950);
  });

  it('keeps a copy, refuses entries above an eighth of the bound, and holds nothing at 0', () => {
    const lru = new LruTtsCache({ maxBytes: 800 });
    const audio = bytes(100, 7);
    lru.set('k', audio);
    audio.fill(0);
    expect(lru.peek('k')?.[0]).toBe(7);
    lru.set('big', bytes(101));
    expect(lru.peek('big')).toBeNull();
    const none = new LruTtsCache({ maxBytes: 0 });
    none.set('k', bytes(2));
    expect(none.size).toBe(0);
  });
});

describe('TieredTtsCache', () => {
  it('answers from memory first, asks the shared tier once for the rest, and keeps what it returns', async () => {
    const far = new RecordingCache();
    far.map.set('r1', bytes(4, 1));
    far.map.set('r2', bytes(4, 2));
    const near = new LruTtsCache({ maxBytes: 1 << 20 });
    near.set('m', bytes(4, 3));
    const tiers: string[] = [];
    const cache = new TieredTtsCache({ near, far, counters: { hit: (t) => tiers.push(t) } });
    const got = await cache.getMany(['m', 'r1', 'absent', 'r2']);
    expect(got.map((g) => g?.[0] ?? null)).toEqual([3, 1, null, 2]);
    expect(far.calls).toEqual(['getMany:r1,absent,r2']);
    expect(tiers.sort()).toEqual(['memory', 'shared', 'shared']);
    far.calls.length = 0;
    expect((await cache.getMany(['m', 'r1', 'r2'])).every((g) => g !== null)).toBe(true);
    expect(await cache.get('r2')).not.toBeNull();
    expect(far.calls).toEqual([]); // all three now in memory: no shared lookup
  });

  it('stores in memory at once and in the shared tier only after the current event-loop turn', async () => {
    const far = new RecordingCache();
    const cache = new TieredTtsCache({ near: new LruTtsCache({ maxBytes: 1 << 20 }), far });
    const done = cache.put('k', bytes(4));
    await Promise.resolve();
    await Promise.resolve();
    expect(far.calls).toEqual([]); // microtasks (the speak that follows synthesis) run first
    expect(await cache.get('k')).not.toBeNull();
    await done;
    expect(far.calls).toEqual(['put:k']);
  });
});

describe('CachedSynthesizer.prefetch', () => {
  const inner: Synthesizer & { count: number } = {
    id: 'tone',
    count: 0,
    async synthesize(text) {
      this.count++;
      return new Int16Array(text.length);
    },
  };

  it('looks up the sentences together; synthesize() uses the answers without a lookup of its own', async () => {
    const far = new RecordingCache();
    const cache = new TieredTtsCache({ near: new LruTtsCache({ maxBytes: 1 << 20 }), far });
    const synth = new CachedSynthesizer({ inner, cache }, silentLogger());
    const signal = new AbortController().signal;
    await synth.synthesize('Second sentence here.', 16000, signal); // cached in both tiers
    await new Promise((r) => setImmediate(r));
    const warm = new CachedSynthesizer({ inner, cache: new TieredTtsCache({ near: new LruTtsCache({ maxBytes: 1 << 20 }), far }) }, silentLogger());
    far.calls.length = 0;
    warm.prefetch(['First sentence here.', 'Second sentence here.'], 16000);
    const before = inner.count;
    await warm.synthesize('First sentence here.', 16000, signal);
    await warm.synthesize('Second sentence here.', 16000, signal);
    expect(far.calls.filter((c) => c.startsWith('get'))).toHaveLength(1);
    expect(far.calls[0]).toMatch(/^getMany:[0-9a-f]{64},[0-9a-f]{64}$/);
    expect(inner.count - before).toBe(1); // the first was a miss, the second came from the shared tier
    expect([warm.hits, warm.misses]).toEqual([1, 1]);
  });

  it('a failed lookup is a miss (synthesized), never a failed sentence', async () => {
    const broken: TtsCache = {
      get: async () => Promise.reject(new Error('redis error')),
      getMany: async () => Promise.reject(new Error('redis error')),
      put: async () => undefined,
    };
    const synth = new CachedSynthesizer({ inner, cache: broken }, silentLogger());
    synth.prefetch(['Something to say.'], 16000);
    await expect(synth.synthesize('Something to say.', 16000, new AbortController().signal)).resolves.toHaveLength(17);
  });
});

describe('TTS_CACHE_MEMORY_MB', () => {
  it('defaults to 64 MiB, accepts 0, refuses what is not a whole number in range', () => {
    expect(loadConfig({}).tts.cacheMemoryBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ TTS_CACHE_MEMORY_MB: '0' }).tts.cacheMemoryBytes).toBe(0);
    for (const bad of ['-1', '1.5', 'lots', '70000']) expect(() => loadConfig({ TTS_CACHE_MEMORY_MB: bad })).toThrow(/TTS_CACHE_MEMORY_MB/);
  });
});
