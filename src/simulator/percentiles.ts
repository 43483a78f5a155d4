// Percentile math for the simulator's report: exact percentiles over recorded samples (nearest-rank)
// and a fixed-bucket histogram for per-frame measurements that must not allocate per sample.

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export const EMPTY_SUMMARY: Summary = Object.freeze({ count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });

/** Nearest-rank percentile of an ascending array: the smallest value with at least p% of samples at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (p <= 0) return sorted[0] as number;
  if (p >= 100) return sorted[n - 1] as number;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.max(0, rank - 1)] as number;
}

/** Summary of unsorted samples (the input is not modified). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return EMPTY_SUMMARY;
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
  return {
    count: sorted.length,
    min: sorted[0] as number,
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] as number,
  };
}

/**
 * Histogram with fixed-width buckets from 0 to `maxValue` (values above land in the last bucket).
 * `record` is allocation-free; percentiles come back as the upper edge of the bucket holding the rank.
 */
export class Histogram {
  private readonly buckets: Uint32Array;
  private n = 0;
  private sum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly bucketWidth: number,
    maxValue: number,
  ) {
    this.buckets = new Uint32Array(Math.ceil(maxValue / bucketWidth) + 1);
  }

  record(value: number): void {
    const v = value < 0 ? 0 : value;
    let i = Math.floor(v / this.bucketWidth);
    if (i >= this.buckets.length) i = this.buckets.length - 1;
    this.buckets[i] = (this.buckets[i] as number) + 1;
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  get count(): number {
    return this.n;
  }

  percentile(p: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i] as number;
      if (seen >= rank) return i === this.buckets.length - 1 ? this.hi : Math.min((i + 1) * this.bucketWidth, this.hi);
    }
    return this.hi;
  }

  summary(): Summary {
    if (this.n === 0) return EMPTY_SUMMARY;
    return { count: this.n, min: this.lo, mean: this.sum / this.n, p50: this.percentile(50), p95: this.percentile(95), p99: this.percentile(99), max: this.hi };
  }
}
