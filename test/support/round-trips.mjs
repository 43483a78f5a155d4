// Test and benchmark instrumentation (not shipped in src/): counts Redis round trips by counting
// writes to the client's sockets. ioredis writes one command, or one whole pipeline, per socket
// write. Used by tests and bench/redis.mjs to prove "one round trip per turn".
// Plain JavaScript so the benchmark (node, importing dist/) and the tests (vitest) share one copy;
// types in round-trips.d.mts.
import { Cluster } from 'ioredis';

const PATCHED = Symbol('roundTripCounterPatched');

/** @param {import('ioredis').Redis | import('ioredis').Cluster} client */
export function countRoundTrips(client) {
  const state = { count: 0 };
  const patchStream = (r) => {
    const s = r.stream;
    if (!s || s[PATCHED]) return;
    const write = s.write.bind(s);
    s.write = (...a) => {
      state.count++;
      return write(...a);
    };
    s[PATCHED] = true;
  };
  const watch = (r) => {
    patchStream(r);
    r.on('connect', () => patchStream(r));
  };
  if (client instanceof Cluster) {
    for (const n of client.nodes('all')) watch(n);
    client.on('+node', (n) => watch(n));
  } else {
    watch(client);
  }
  return {
    get count() {
      return state.count;
    },
  };
}
