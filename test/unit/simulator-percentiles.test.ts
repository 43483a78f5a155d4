import { describe, expect, it } from 'vitest';
import { Histogram, percentile, summarize } from '../../src/simulator/percentiles.js';

describe('percentile math', () => {
  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 95)).toBe(95);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
  });

  it('summarize sorts numerically without touching the input', () => {
    const input = [10, 9, 100, 2, 1];
    const s = summarize(input);
    expect(input).toEqual([10, 9, 100, 2, 1]);
    expect(s).toEqual({ count: 5, min: 1, mean: 24.4, p50: 9, p95: 100, p99: 100, max: 100 });
    expect(summarize([]).count).toBe(0);
  });

  it('histogram percentiles land within one bucket of the exact value', () => {
    const h = new Histogram(0.1, 100);
    const values: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const v = 20 + Math.sin(i) * 5 + (i % 97 === 0 ? 30 : 0);
      values.push(v);
      h.record(v);
    }
    const exact = summarize(values);
    for (const p of [50, 95, 99] as const) {
      const key = `p${p}` as 'p50' | 'p95' | 'p99';
      expect(Math.abs(h.percentile(p) - exact[key])).toBeLessThanOrEqual(0.1 + 1e-9);
    }
    expect(h.count).toBe(10_000);
    expect(h.summary().max).toBeCloseTo(exact.max, 9);
  });

  it('histogram clamps out-of-range values into the end buckets', () => {
    const h = new Histogram(1, 10);
    h.record(-5);
    h.record(500);
    expect(h.percentile(1)).toBe(1);
    expect(h.percentile(100)).toBe(500);
  });
});
