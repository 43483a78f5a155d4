// Test and benchmark instrumentation (not shipped in src/): counts Redis round trips by counting
// writes to the client's sockets. ioredis writes one command, or one whole pipeline, per socket
// write. Used by tests and bench/redis.mjs to prove "one round trip per turn".
// Plain JavaScript so the benchmark (node, importing dist/) and the tests (vitest) share one copy;
// types in round-trips.d.mts.
import { Cluster } from 'ioredis';

const PATCHED = Symbol('roundTripCounterPatched');

/**
 * @param {import('ioredis').Redis | import('ioredis').Cluster} client
 * @param {{ record?: boolean }} [opts] record: keep the first 16 KiB of each write (the command names
 *   and keys, as RESP text) in `writes`, to tell one call's round trips from background ones.
 */
export function countRoundTrips(client, opts = {}) {
  const state = { count: 0, writes: [] };
  const patchStream = (r) => {
    const s = r.stream;
    if (!s || s[PATCHED]) return;
    const write = s.write.bind(s);
    s.write = (...a) => {
      state.count++;
      if (opts.record) {
        const d = a[0];
        state.writes.push(typeof d === 'string' ? d.slice(0, 16384) : Buffer.from(d.buffer, d.byteOffset, Math.min(d.byteLength, 16384)).toString('latin1'));
      }
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
    get writes() {
      return state.writes;
    },
  };
}
