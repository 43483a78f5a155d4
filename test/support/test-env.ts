// Per-test configuration: a fresh key prefix (APP_NAME = test-<uuid>) and helpers to remove its keys.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.js';

export function testRedisUrl(): string {
  return inject('redisUrl');
}

export function testAppName(): string {
  return `test-${randomUUID().slice(0, 12)}`;
}

/** A config for one test: its own key prefix, port 0, quiet logs. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  const appName = env.APP_NAME ?? testAppName();
  // Each test's archive spool lives under the OS temp dir, never in the working tree.
  const spoolDir = join(tmpdir(), 'voice-worker-test', appName);
  return loadConfig({ APP_NAME: appName, APP_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SPOOL_DIR: spoolDir, ...env });
}

/** Deletes every key under `${appName}:` (SCAN, never KEYS). Returns how many it removed. */
export async function removeKeys(redisUrl: string, appName: string): Promise<number> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return removed;
}
