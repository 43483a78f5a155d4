import type { Cluster, Redis } from 'ioredis';

export interface RoundTripCounter {
  /** Socket writes since the counter was attached. */
  readonly count: number;
  /** With { record: true }: the first 16 KiB of each write (RESP text), in order; empty otherwise. */
  readonly writes: readonly string[];
}

export function countRoundTrips(client: Redis | Cluster, opts?: { record?: boolean }): RoundTripCounter;

/** The commands in one recorded write, each as [name, ...args]; scripts named via `scripts` (SHA1 → name). */
export function commandsOf(write: string, scripts: ReadonlyMap<string, string>): string[][];

/** SHA1 of each script's source → its registered name. */
export function scriptNamesBySha(defs: Iterable<{ readonly lua: string; readonly command: string }>): Map<string, string>;
