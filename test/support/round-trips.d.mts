import type { Cluster, Redis } from 'ioredis';

export interface RoundTripCounter {
  /** Socket writes since the counter was attached. */
  readonly count: number;
  /** With { record: true }: the first 16 KiB of each write (RESP text), in order; empty otherwise. */
  readonly writes: readonly string[];
}

export function countRoundTrips(client: Redis | Cluster, opts?: { record?: boolean }): RoundTripCounter;
