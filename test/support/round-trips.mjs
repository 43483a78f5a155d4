// Test and benchmark instrumentation (not shipped in src/): counts Redis round trips by counting
// writes to the client's sockets. ioredis writes one command, or one whole pipeline, per socket
// write. Used by tests and bench/redis.mjs to prove "one round trip per turn".
// Plain JavaScript so the benchmark (node, importing dist/) and the tests (vitest) share one copy;
// types in round-trips.d.mts.
import { createHash } from 'node:crypto';
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

/**
 * The commands in one recorded write (RESP arrays of bulk strings; a truncated tail is cut off), each
 * as [name, ...args]. EVALSHA and EVAL (ioredis sends a script's first use on a connection as EVAL)
 * are named by the script: `scripts` maps a script's SHA1 to its name (e.g. appendTurnV3).
 * @param {string} write
 * @param {Map<string, string>} scripts
 * @returns {string[][]}
 */
export function commandsOf(write, scripts) {
  const out = [];
  let i = 0;
  while (write[i] === '*') {
    const nl = write.indexOf('\r\n', i);
    const n = Number(write.slice(i + 1, nl));
    i = nl + 2;
    const args = [];
    for (let k = 0; k < n && write[i] === '$'; k++) {
      const nl2 = write.indexOf('\r\n', i);
      const len = Number(write.slice(i + 1, nl2));
      i = nl2 + 2;
      args.push(write.slice(i, i + len));
      i += len + 2;
    }
    const name = (args[0] ?? '').toUpperCase();
    const sha = name === 'EVAL' ? createHash('sha1').update(Buffer.from(args[1] ?? '', 'latin1')).digest('hex') : (args[1] ?? '');
    out.push(name === 'EVALSHA' || name === 'EVAL' ? [scripts.get(sha) ?? `${name}?`, ...args.slice(2)] : [name, ...args.slice(1)]);
    if (args.length < n) break;
  }
  return out;
}

/** SHA1 of each script's source → its registered name, for commandsOf. @param {Iterable<{ lua: string, command: string }>} defs */
export function scriptNamesBySha(defs) {
  return new Map([...defs].map((d) => [createHash('sha1').update(d.lua).digest('hex'), d.command]));
}
