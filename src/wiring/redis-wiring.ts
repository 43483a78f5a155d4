// Wires the Redis tier for the composition root: keys, scripts, the stores behind the state ports,
// the resilient conversation store (outbox + in-process mirror), worker heartbeat, event router,
// readiness checks and metrics.
//
// Readiness while Redis is down: the `redis` check fails (503) so load balancers stop sending NEW
// calls to this replica; live calls are not dropped (their sockets stay open, conversation writes go
// to the outbox, reads come from memory). While the outbox still holds writes or replays them after
// Redis returns, the `redis-outbox` check reports 'degraded' (200 with status degraded).
import type { Config } from '../config.js';
import type { AffinityStore, Clock, ConversationStore, EventRouter, ReadinessCheck, SessionStore, TtsCache } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { counter, gauge, type Registry } from '../metrics.js';
import { MemoryConversationStore } from '../adapters/memory/memory-conversation-store.js';
import { RedisKeys } from '../adapters/redis/keys.js';
import { RedisAffinityStore } from '../adapters/redis/redis-affinity.js';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import { RedisConversationStore } from '../adapters/redis/redis-conversation-store.js';
import { RedisEventRouter } from '../adapters/redis/redis-event-router.js';
import { RedisSessionStore, RedisTtsCache } from '../adapters/redis/redis-session-store.js';
import { ResilientConversationStore } from '../adapters/redis/resilient-conversation-store.js';
import { ResilientTtsCache } from '../adapters/redis/resilient-tts-cache.js';
import { RedisScripts } from '../adapters/redis/scripts.js';
import { WorkerRegistry } from '../adapters/redis/worker-registry.js';

/** Seconds a call's in-process conversation copy survives without a write. */
export const MIRROR_IDLE_S = 600;

export interface RedisState {
  readonly state: {
    readonly conversations: ConversationStore;
    readonly sessions: SessionStore;
    readonly ttsCache: TtsCache;
    readonly affinity: AffinityStore;
    readonly router: EventRouter;
  };
  /** The Redis conversation adapter alone (no outbox, no mirror): for benchmarks and diagnostics. */
  readonly redisConversations: RedisConversationStore;
  readonly keys: RedisKeys;
  readonly scripts: RedisScripts;
  readonly workers: WorkerRegistry;
  readonly outbox: ResilientConversationStore;
  readonly readiness: readonly ReadinessCheck[];
  /** Stops timers and the subscriber, flushes what the outbox can within `flushMs`; keeps the client open. */
  close(flushMs?: number): Promise<void>;
}

export interface RedisStateDeps {
  readonly client: RedisClient;
  readonly registry: Registry;
  readonly log: Logger;
  readonly clock: Clock;
}

export function createRedisState(deps: RedisStateDeps, config: Config): RedisState {
  const { client, registry, log, clock } = deps;
  const keys = new RedisKeys(config);
  const scripts = new RedisScripts(client);
  const ttl = config.ttl;
  const isUp = () => client.status === 'ready';

  gauge(registry, 'voice_redis_up', 'Redis connection ready (1) or not (0)', [], function collect() {
    this.set(isUp() ? 1 : 0);
  });
  const routed = counter(registry, 'voice_events_routed_total', 'Callback events routed between replicas', ['outcome']);

  const primary = new RedisConversationStore({ scripts, keys }, { ttl, historyMaxTurns: config.state.historyMaxTurns });
  // The mirror only has to cover live calls (each writes at least every few seconds or ends), so its
  // entries expire after MIRROR_IDLE_S without a write instead of the full Redis TTLs.
  const mirrorTtl = { ...ttl, context: Math.min(ttl.context, MIRROR_IDLE_S), history: Math.min(ttl.history, MIRROR_IDLE_S) };
  const mirror = new MemoryConversationStore({ clock }, { ttl: mirrorTtl, historyMaxTurns: config.state.historyMaxTurns });
  const outbox = new ResilientConversationStore(
    { primary, mirror, isUp, registry },
    { outboxMax: config.state.outboxMax, replayIntervalMs: 1000 },
    log.child({ component: 'redis-outbox' }),
  );
  const onReady = () => void outbox.replayNow();
  client.on('ready', onReady);

  const workers = new WorkerRegistry({ client, keys }, { workerId: config.workerId, ttl }, log.child({ component: 'workers' }));
  workers.start().catch((err: unknown) => log.warn({ err }, 'first worker heartbeat failed; the timer retries'));
  const router = new RedisEventRouter(
    { client, scripts, keys, workers, onForwarded: (outcome) => routed.inc({ outcome }) },
    { workerId: config.workerId, ttl, maxHeldPerCall: 64 },
    log.child({ component: 'event-router' }),
  );

  return {
    state: {
      conversations: outbox,
      sessions: new RedisSessionStore({ client, scripts, keys }, ttl),
      ttsCache: new ResilientTtsCache({ inner: new RedisTtsCache({ client, keys }, ttl), isUp, registry }),
      affinity: new RedisAffinityStore({ client, scripts, keys }, ttl),
      router,
    },
    redisConversations: primary,
    keys,
    scripts,
    workers,
    outbox,
    readiness: [outbox.readiness()],
    async close(flushMs = 2000) {
      client.off('ready', onReady);
      if (outbox.depth > 0 && !(await outbox.flush(flushMs))) log.warn({ depth: outbox.depth }, 'closing with conversation writes still in the outbox');
      outbox.close();
      await router.stop();
      await workers.stop();
    },
  };
}
