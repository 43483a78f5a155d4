// Hot → cold reads of call records (issue 18 item 6): Redis first, Cosmos second, and a Cosmos hit
// re-cached in Redis (the store applies the record type's TTL: summary, transcript). One helper for
// the transcript and summary routes. A failed Redis read counts as a miss (the archive still
// answers); a failed re-cache is reported and the value still returned.

export type ReadTier = 'redis' | 'cosmos' | 'none';

export interface ReadThrough<T> {
  readonly hot: () => Promise<T | null>;
  readonly cold: () => Promise<T | null>;
  readonly recache: (value: T) => Promise<void>;
  /** Applied to a cold value before it is cached and returned (e.g. masking legacy fields). */
  readonly prepare?: (value: T) => T;
  readonly onRecacheError?: (err: unknown) => void;
}

export async function readThrough<T>(r: ReadThrough<T>): Promise<{ value: T | null; source: ReadTier }> {
  const cached = await r.hot().catch(() => null);
  if (cached !== null) return { value: cached, source: 'redis' };
  const cold = await r.cold();
  if (cold === null) return { value: null, source: 'none' };
  const value = r.prepare ? r.prepare(cold) : cold;
  await r.recache(value).catch((err: unknown) => r.onRecacheError?.(err));
  return { value, source: 'cosmos' };
}
