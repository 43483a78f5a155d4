// The PCM ring never exceeds its bound and always holds the most recent samples, oldest first.
import { describe, expect, it } from 'vitest';
import { PcmRing } from '../../src/domain/audio/ring-buffer.js';

describe('PcmRing', () => {
  it('holds at most capacity samples and returns the latest ones in order (random writes)', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (const capacity of [1, 7, 320, 1000]) {
      const ring = new PcmRing(capacity);
      const all: number[] = [];
      let next = 0;
      for (let i = 0; i < 300; i++) {
        const n = rnd(capacity * 2 + 3);
        const chunk = new Int16Array(n);
        for (let k = 0; k < n; k++) chunk[k] = (next++ % 30000) - 15000;
        ring.write(chunk);
        all.push(...chunk);
        expect(ring.length).toBeLessThanOrEqual(capacity);
        expect(ring.length).toBe(Math.min(capacity, all.length));
        expect(ring.byteSize).toBe(capacity * 2);
        const want = rnd(capacity + 5);
        const out = new Int16Array(capacity + 5);
        const got = ring.latest(want, out);
        expect(got).toBe(Math.min(want, ring.length));
        expect([...out.subarray(0, got)]).toEqual(all.slice(all.length - got));
      }
      expect(ring.written).toBe(all.length);
    }
  });

  it('rejects a non-positive capacity and clears', () => {
    expect(() => new PcmRing(0)).toThrow(RangeError);
    const r = new PcmRing(4);
    r.write(new Int16Array([1, 2, 3]));
    r.clear();
    expect(r.length).toBe(0);
  });
});
