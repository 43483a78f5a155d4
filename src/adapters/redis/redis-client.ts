// The Redis client's type, connection logging, readiness and wait-for-ready. The client itself (bounded
// timeouts and a bounded offline queue, so a Redis outage never hangs a call) is built in
// src/wiring/clients.ts.
import type { Redis, Cluster } from 'ioredis';
import type { ReadinessCheck } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import type { RedisAuth } from '../../config.js';

export type RedisClient = Redis | Cluster;

export interface RedisClientConfig {
  readonly redisUrl: string;
  /** Credentials beyond the URL's own: REDIS_PASSWORD, or Microsoft Entra ID (see redis-entra-auth.ts). */
  readonly auth: RedisAuth;
  readonly clusterNodes: readonly { host: string; port: number }[];
  readonly commandTimeoutMs: number;
}

/** Logs connection changes (not every failed retry); the client itself is built in src/wiring/clients.ts. */
export function watchRedisConnection(client: RedisClient, log: Logger): void {
  let lastError = '';
  client.on('error', (err: Error) => {
    // ioredis emits an error per failed reconnect attempt: log changes, not every retry.
    if (err.message !== lastError) {
      lastError = err.message;
      log.warn({ err }, 'redis error');
    }
  });
  client.on('ready', () => {
    if (lastError) log.info('redis connection restored');
    lastError = '';
  });
}

/** Resolves once the client is ready; rejects after `timeoutMs` (the client keeps reconnecting). */
export function waitForReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready within ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    timer.unref();
    client.once('ready', onReady);
  });
}

/**
 * 'degraded' (200 on /readyz) while the connection is down or does not answer: readiness means
 * "can take a new call", and this replica still can (admission falls back to its local ceiling,
 * live calls go on from memory). The status and the metric voice_redis_up tell operators.
 */
export function redisReadiness(client: RedisClient): ReadinessCheck {
  return {
    name: 'redis',
    async check() {
      if (client.status !== 'ready') return 'degraded';
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<'degraded'>((resolve) => (timer = setTimeout(() => resolve('degraded'), 1000)));
      try {
        return await Promise.race([client.ping().then(() => 'ok' as const), slow]);
      } catch {
        return 'degraded';
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
