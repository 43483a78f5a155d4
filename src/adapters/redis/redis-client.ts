// Builds the ioredis client (single node or cluster) with bounded timeouts and a bounded offline
// queue, so a Redis outage never hangs a call. Only the wiring (src/wiring) calls this.
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { ReadinessCheck } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';

export type RedisClient = Redis | Cluster;

export interface RedisClientConfig {
  readonly redisUrl: string;
  readonly clusterNodes: readonly { host: string; port: number }[];
  readonly commandTimeoutMs: number;
}

export function createRedisClient(cfg: RedisClientConfig, log: Logger): RedisClient {
  const common: RedisOptions = {
    commandTimeout: cfg.commandTimeoutMs,
    connectTimeout: Math.max(1000, cfg.commandTimeoutMs * 2),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    lazyConnect: false,
  };
  const client: RedisClient =
    cfg.clusterNodes.length > 0
      ? new Cluster([...cfg.clusterNodes], { redisOptions: common, enableOfflineQueue: true, clusterRetryStrategy: (t) => Math.min(t * 100, 2000) })
      : new Redis(cfg.redisUrl, common);
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
  return client;
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
