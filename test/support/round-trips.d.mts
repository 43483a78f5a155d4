import type { Cluster, Redis } from 'ioredis';

export interface RoundTripCounter {
  /** Socket writes since the counter was attached. */
  readonly count: number;
}

export function countRoundTrips(client: Redis | Cluster): RoundTripCounter;
