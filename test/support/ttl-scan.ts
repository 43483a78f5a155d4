// Finds keys without a TTL under an app prefix (SCAN + PTTL, never KEYS). Every key the worker writes
// must expire: a non-empty result is a bug. Works against a single server or every master of a Cluster.
import { Cluster, Redis } from 'ioredis';

async function scanNode(r: Redis, appName: string): Promise<string[]> {
  const missing: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const p = r.pipeline();
    for (const k of keys) p.pttl(k);
    const res = (await p.exec()) ?? [];
    res.forEach(([err, ttl], i) => {
      if (!err && Number(ttl) === -1) missing.push(keys[i] as string);
    });
  } while (cursor !== '0');
  return missing;
}

/** Keys under `${appName}:` that have no TTL. `target` is a redis:// URL or a list of cluster nodes. */
export async function keysWithoutTtl(target: string | readonly { host: string; port: number }[], appName: string): Promise<string[]> {
  if (typeof target === 'string') {
    const r = new Redis(target, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      return await scanNode(r, appName);
    } finally {
      r.disconnect();
    }
  }
  const c = new Cluster([...target], { lazyConnect: true });
  await c.connect();
  try {
    const all = await Promise.all(c.nodes('master').map((n) => scanNode(n, appName)));
    return all.flat();
  } finally {
    c.disconnect();
  }
}

/** Every key under `${appName}:` (for assertions that something was written at all). */
export async function keysUnder(target: string | readonly { host: string; port: number }[], appName: string): Promise<string[]> {
  const scanAll = async (r: Redis) => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
    return out;
  };
  if (typeof target === 'string') {
    const r = new Redis(target, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      return await scanAll(r);
    } finally {
      r.disconnect();
    }
  }
  const c = new Cluster([...target], { lazyConnect: true });
  await c.connect();
  try {
    return (await Promise.all(c.nodes('master').map(scanAll))).flat();
  } finally {
    c.disconnect();
  }
}
