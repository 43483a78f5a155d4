// Counts Redis round trips by counting writes to the client's sockets: ioredis writes one command,
// or one whole pipeline, per socket write. Used by tests and the benchmark to prove "one round trip
// per turn", and exported as a metric.
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-client.js';

export interface RoundTripCounter {
  /** Socket writes since the counter was attached. */
  readonly count: number;
}

const PATCHED = Symbol('roundTripCounterPatched');

export function countRoundTrips(client: RedisClient): RoundTripCounter {
  const state = { count: 0 };
  const patchStream = (r: Redis) => {
    const s = r.stream as unknown as { write: (...a: unknown[]) => boolean; [PATCHED]?: boolean } | undefined;
    if (!s || s[PATCHED]) return;
    const write = s.write.bind(s);
    s.write = (...a: unknown[]) => {
      state.count++;
      return write(...a);
    };
    s[PATCHED] = true;
  };
  const watch = (r: Redis) => {
    patchStream(r);
    r.on('connect', () => patchStream(r));
  };
  if (client instanceof Cluster) {
    for (const n of client.nodes('all')) watch(n);
    client.on('+node', (n: Redis) => watch(n));
  } else {
    watch(client);
  }
  return {
    get count() {
      return state.count;
    },
  };
}
