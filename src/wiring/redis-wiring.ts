// Wires the Redis tier for the composition root: keys, scripts, the stores behind the state ports,
// the resilient conversation store (outbox + in-process mirror), worker heartbeat, event router,
// readiness checks and metrics.
//
// Readiness while Redis is down: the `redis` check reports 'degraded' (200): this replica still takes
// new calls on its local ceiling (admission falls back to MAX_CONCURRENT_CALLS), live calls go on from
// memory (auth state and snapshots in the resilient session store, conversation writes in the outbox).
// While the outbox holds writes or replays them, `redis-outbox` reports 'degraded' too.
//
// The owner re-asserts: when Redis comes back (the client's 'ready' event) the lease keeper renews at
// once, and every lease found gone is taken back and the call's state written back (owner-restore).
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
import { ResilientSessionStore } from '../adapters/redis/resilient-session-store.js';
import { RedisOwnerRestore } from '../adapters/redis/owner-restore.js';
import { ResilientConversationStore } from '../adapters/redis/resilient-conversation-store.js';
import { ResilientTtsCache } from '../adapters/redis/resilient-tts-cache.js';
import { LruTtsCache } from '../adapters/memory/lru-tts-cache.js';
import { TieredTtsCache } from '../adapters/tts/tiered-tts-cache.js';
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
  /** The session store with this replica's calls kept in memory (the same object as state.sessions). */
  readonly localSessions: ResilientSessionStore;
  /** Writes back the state of calls whose Redis copy was lost. */
  readonly restorer: RedisOwnerRestore;
  /** Runs when the event channel is subscribed again after a reconnect. */
  onResubscribed(fn: () => void): void;
  readonly readiness: readonly ReadinessCheck[];
  /** Stops timers and the subscriber, flushes what the outbox can within `flushMs`; keeps the client open. */
  close(flushMs?: number): Promise<void>;
}

export interface RedisStateDeps {
  readonly client: RedisClient;
  readonly registry: Registry;
  readonly log: Logger;
  readonly clock: Clock;
  /** True for a call this replica holds (its auth state and snapshot are kept in memory). */
  readonly isLocal?: (callId: string) => boolean;
  /** The fence this replica holds a call under (0 = none): conversation writes are fenced by it. */
  readonly fenceOf?: (callId: string) => number;
  /** Runs each time the connection becomes ready again (after the first): the owner re-asserts. */
  readonly onReconnect?: () => void;
}

export function createRedisState(deps: RedisStateDeps, config: Config): RedisState {
  const { client, registry, log, clock } = deps;
  const keys = new RedisKeys(config);
  const scripts = new RedisScripts(client);
  const ttl = config.ttl;
  // A server that stalls (frozen, overloaded, a failover in progress) keeps the connection 'ready'
  // while every command times out: a probe PINGs twice a second and marks Redis down while PINGs time
  // out, so live calls go to memory at once instead of waiting out a timeout per write.
  let stalled = false;
  const isUp = () => client.status === 'ready' && !stalled;
  let probing = false;
  const probe = setInterval(() => {
    if (probing || client.status !== 'ready') return;
    probing = true;
    client.ping().then(
      () => {
        if (stalled) {
          stalled = false;
          log.warn('redis answers again after a stall');
          deps.onReconnect?.();
          void outbox.replayNow();
        }
      },
      (err: unknown) => {
        if (!stalled) log.warn({ err }, 'redis stalled (PING timed out): serving live calls from memory');
        stalled = true;
      },
    ).finally(() => (probing = false));
  }, 500);
  probe.unref();

  gauge(registry, 'voice_redis_up', 'Redis connection ready (1) or not (0)', [], function collect() {
    this.set(isUp() ? 1 : 0);
  });
  const routed = counter(registry, 'voice_events_routed_total', 'Callback events routed between replicas', ['outcome']);
  // The TTS cache: in-process LRU (TTS_CACHE_MEMORY_MB) first, Redis second.
  const ttsMemory = new LruTtsCache({ maxBytes: config.tts.cacheMemoryBytes });
  const ttsTierHits = counter(registry, 'voice_tts_cache_tier_hits_total', 'TTS cache hits by tier (memory: no round trip; redis: one pipelined lookup)', ['tier']);
  gauge(registry, 'voice_tts_cache_memory_bytes', 'Audio held by the in-process TTS cache tier', [], function collect() {
    this.set(ttsMemory.bytes);
  });
  const ttsCache = new TieredTtsCache({
    near: ttsMemory,
    far: new ResilientTtsCache({ inner: new RedisTtsCache({ client, keys }, ttl), isUp, registry }),
    counters: { hit: (tier) => ttsTierHits.inc({ tier: tier === 'memory' ? 'memory' : 'redis' }) },
  });

  const primary = new RedisConversationStore({ scripts, keys, ...(deps.fenceOf ? { fenceOf: deps.fenceOf } : {}) }, { ttl, historyMaxTurns: config.state.historyMaxTurns });
  // The mirror only has to cover live calls (each writes at least every few seconds or ends), so its
  // entries expire after MIRROR_IDLE_S without a write instead of the full Redis TTLs.
  const mirrorTtl = { ...ttl, context: Math.min(ttl.context, MIRROR_IDLE_S), history: Math.min(ttl.history, MIRROR_IDLE_S) };
  const mirror = new MemoryConversationStore({ clock }, { ttl: mirrorTtl, historyMaxTurns: config.state.historyMaxTurns });
  const outbox = new ResilientConversationStore(
    { primary, mirror, isUp, registry },
    { outboxMax: config.state.outboxMax, replayIntervalMs: 1000 },
    log.child({ component: 'redis-outbox' }),
  );
  let readies = client.status === 'ready' ? 1 : 0;
  const onReady = () => {
    if (readies++ > 0) deps.onReconnect?.();
    void outbox.replayNow();
  };
  client.on('ready', onReady);
  const localSessions = new ResilientSessionStore(
    { primary: new RedisSessionStore({ client, scripts, keys }, ttl), isLocal: deps.isLocal ?? (() => false), isUp, clock, registry },
    { claimTtlS: ttl.dedup },
    log.child({ component: 'sessions' }),
  );
  const restorer = new RedisOwnerRestore({ client, scripts, keys }, { ttl, historyMaxTurns: config.state.historyMaxTurns, batchSize: 50 });

  const workers = new WorkerRegistry({ client, keys }, { workerId: config.workerId, ttl, peerUrl: config.peerUrl }, log.child({ component: 'workers' }));
  workers.start().catch((err: unknown) => log.warn({ err }, 'first worker heartbeat failed; the timer retries'));
  const router = new RedisEventRouter(
    { client, scripts, keys, workers, onForwarded: (outcome) => routed.inc({ outcome }) },
    { workerId: config.workerId, ttl, maxHeldPerCall: 64 },
    log.child({ component: 'event-router' }),
  );

  return {
    state: {
      conversations: outbox,
      sessions: localSessions,
      ttsCache,
      affinity: new RedisAffinityStore({ client, scripts, keys }, ttl),
      router,
    },
    redisConversations: primary,
    keys,
    scripts,
    workers,
    outbox,
    localSessions,
    restorer,
    onResubscribed: (fn) => router.onResubscribed(fn),
    readiness: [outbox.readiness()],
    async close(flushMs = 2000) {
      clearInterval(probe);
      client.off('ready', onReady);
      if (outbox.depth > 0 && !(await outbox.flush(flushMs))) log.warn({ depth: outbox.depth }, 'closing with conversation writes still in the outbox');
      outbox.close();
      await router.stop();
      await workers.stop();
    },
  };
}
