// The composition root: the only place SDK clients are created and adapters wired together.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Config } from './config.js';
import type { ReadinessCheck } from './domain/ports.js';
import type { Logger } from './logger.js';
import { createRegistry, type Registry } from './metrics.js';
import { systemClock } from './adapters/system-clock.js';
import { MemoryConversationStore } from './adapters/memory/memory-conversation-store.js';
import { MemorySessionStore, MemoryTtsCache } from './adapters/memory/memory-session-store.js';
import { MemoryAffinityStore } from './adapters/memory/memory-affinity.js';
import { createRedisClient, redisReadiness, type RedisClient } from './adapters/redis/redis-client.js';
import { buildServer, type UpgradeHandler } from './server/app.js';
import { Lifecycle } from './server/lifecycle.js';
import { CallRegistry } from './domain/live-call.js';
import { LeaseKeeper } from './domain/lease-keeper.js';
import { MemoryEventRouter } from './adapters/memory/memory-event-router.js';
import type { AffinityStore, Clock, ConversationStore, EventRouter, SessionStore, TtsCache } from './domain/ports.js';
import { wireArchive, type ArchiveRole, type ArchiveWiring } from './archive-wiring.js';

export interface StateAdapters {
  readonly conversations: ConversationStore;
  readonly sessions: SessionStore;
  readonly ttsCache: TtsCache;
  readonly affinity: AffinityStore;
  readonly router: EventRouter;
}

export interface Worker {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
  readonly app: FastifyInstance;
  readonly state: StateAdapters;
  readonly redis: RedisClient | null;
  /** The live calls this replica holds. */
  readonly calls: CallRegistry;
  /** Owner leases of this replica's calls, renewed in one batch. */
  readonly leases: LeaseKeeper;
  /** The archive pipeline: queue, finalizer hook, archive store, caller profiles. */
  readonly archive: ArchiveWiring;
  /** Listens on config.host:config.port (0 = any free port); resolves with the bound port. */
  start(): Promise<{ port: number; url: string }>;
  /** Drains and closes everything; idempotent. */
  stop(reason?: string): Promise<void>;
}

export interface WorkerOptions {
  /** Collect process-level default metrics (off in tests that build several workers). */
  readonly defaultMetrics?: boolean;
  readonly clock?: Clock;
  /** 'archiver' runs only the archive consumer's side of the archive wiring (no sender). */
  readonly role?: ArchiveRole;
}

function memoryState(config: Config, clock: Clock): StateAdapters {
  return {
    conversations: new MemoryConversationStore({ clock }, { ttl: config.ttl, historyMaxTurns: config.state.historyMaxTurns }),
    sessions: new MemorySessionStore({ clock }, config.ttl),
    ttsCache: new MemoryTtsCache({ clock }, config.ttl.tts),
    affinity: new MemoryAffinityStore({ clock }, config.ttl.lease),
    router: new MemoryEventRouter({ clock }, { holdSeconds: config.ttl.pending, maxPerCall: 64 }),
  };
}

export async function createWorker(config: Config, log: Logger, opts: WorkerOptions = {}): Promise<Worker> {
  const clock = opts.clock ?? systemClock;
  const registry = createRegistry({ defaultMetrics: opts.defaultMetrics ?? true, labels: { worker: config.workerId } });
  const lifecycle = new Lifecycle({ drainTimeoutMs: config.shutdownDrainTimeoutMs }, log);
  const readiness: ReadinessCheck[] = [];
  const routes: FastifyPluginAsync[] = [];
  const upgrades = new Map<string, UpgradeHandler>();
  const calls = new CallRegistry();

  let redis: RedisClient | null = null;
  let state: StateAdapters;
  if (config.state.backend === 'redis') {
    redis = createRedisClient(config.state, log.child({ component: 'redis' }));
    readiness.push(redisReadiness(redis));
    // The Redis adapters for these ports arrive with the Redis tier; until then memory serves them.
    state = memoryState(config, clock);
    const client = redis;
    lifecycle.onClose('redis', async () => {
      await client.quit().catch(() => client.disconnect());
    });
  } else {
    state = memoryState(config, clock);
  }

  const leases = new LeaseKeeper(
    {
      affinity: state.affinity,
      onLost: (callId) => log.warn({ callId }, 'owner lease lost to another replica'),
    },
    { workerId: config.workerId, leaseSeconds: config.ttl.lease },
    log.child({ component: 'leases' }),
  );
  leases.start();
  lifecycle.onClose('leases', () => leases.stop());

  const archive = await wireArchive(
    { config, log, registry, lifecycle, readiness, routes, calls, conversations: state.conversations, sessions: state.sessions, redis, clock },
    opts.role ?? 'serve',
  );

  const app = buildServer(
    { log, registry, lifecycle, readiness, routes, upgrades },
    { bodyLimitBytes: 512 * 1024, readinessTimeoutMs: 2000 },
  );
  lifecycle.onClose('http', async () => {
    await app.close();
  });

  let started = false;
  return {
    config,
    log,
    registry,
    lifecycle,
    app,
    state,
    redis,
    calls,
    leases,
    archive,
    async start() {
      await app.listen({ port: config.port, host: config.host });
      started = true;
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      log.info({ port, workerId: config.workerId, state: config.state.backend }, 'listening');
      return { port, url: `http://127.0.0.1:${port}` };
    },
    async stop(reason = 'stop') {
      if (!started) await Promise.resolve(app.ready()).catch(() => undefined);
      await lifecycle.shutdown(reason);
    },
  };
}
