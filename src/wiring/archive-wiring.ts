// Wires the archive pipeline into a worker: Cosmos (configured account, or the embedded server),
// the archive queue (Service Bus with the spool fallback, or the in-process spooled queue), the
// archiver (inside serve unless ARCHIVER_IN_SERVE=false; always in the `archiver` role), caller
// profiles (cache-aside), the transcript and profile routes, readiness and shutdown. Called from
// create-worker.ts, the composition root; the SDK clients come from clients.ts.
import type { CosmosClient } from '@azure/cosmos';
import type { ServiceBusClient } from '@azure/service-bus';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { counter, histogram, type Registry } from '../metrics.js';
import type { Lifecycle } from '../server/lifecycle.js';
import type { CallRegistry } from '../domain/live-call.js';
import type { ArchiveQueue, Clock, ConversationStore, ProfileStore, ReadinessCheck, SessionStore } from '../domain/ports.js';
import { createArchiveFinalizer, type CallFinalizer } from '../domain/archive/archive-finalizer.js';
import type { EmbeddedCosmos } from '../adapters/cosmos/embedded-cosmos-server.js';
import { createCosmosClient, createServiceBusClient } from './clients.js';
import { ensureArchiveContainers } from '../adapters/cosmos/cosmos-containers.js';
import { CosmosArchiveStore } from '../adapters/cosmos/cosmos-archive-store.js';
import { CosmosClaimStore } from '../adapters/cosmos/cosmos-claim-store.js';
import { CosmosAnalyticsStore } from '../adapters/cosmos/cosmos-analytics-store.js';
import { CosmosHotCounterArchive } from '../adapters/cosmos/cosmos-hot-counters.js';
import { analyticsRoutes } from '../server/analytics-routes.js';
import { CosmosProfileStore } from '../adapters/cosmos/cosmos-profile-store.js';
import { CachedProfileStore, MemoryProfileCache, RedisProfileCache } from '../adapters/cosmos/cached-profile-store.js';
import { RedisKeys } from '../adapters/redis/keys.js';
import { FileSpool } from '../adapters/spool/file-spool.js';
import { ArchiveProcessor } from '../adapters/servicebus/archive-processor.js';
import { ServiceBusArchiveQueue, DEFAULT_QUEUE_CONFIG } from '../adapters/servicebus/servicebus-archive-queue.js';
import { ServiceBusArchiver, DEFAULT_ARCHIVER_CONFIG } from '../adapters/servicebus/servicebus-archiver.js';
import { InProcessArchiveQueue } from '../adapters/servicebus/in-process-archive-queue.js';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import { transcriptRoutes } from '../server/transcript-routes.js';
import { profileRoutes } from '../server/profile-routes.js';

export type ArchiveRole = 'serve' | 'archiver';

export interface ArchiveWiringDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
  readonly readiness: ReadinessCheck[];
  readonly routes: FastifyPluginAsync[];
  readonly calls: CallRegistry;
  readonly conversations: ConversationStore;
  readonly sessions: SessionStore;
  readonly redis: RedisClient | null;
  readonly clock: Clock;
}

export interface ArchiveWiring {
  readonly queue: ArchiveQueue;
  /** The finalizer hook: call lifecycle → archive job → queue. */
  readonly finalizer: CallFinalizer;
  readonly archive: CosmosArchiveStore;
  readonly analytics: CosmosAnalyticsStore;
  /** Cold copies of hot Redis counters (hot → cold compaction). */
  readonly hotCounters: CosmosHotCounterArchive;
  readonly profiles: ProfileStore;
  readonly cosmos: CosmosClient;
  /** The embedded Cosmos-compatible server when no COSMOS_ENDPOINT is configured. */
  readonly embeddedCosmos: EmbeddedCosmos | null;
  readonly serviceBus: ServiceBusClient | null;
  /** The Service Bus archiver when this worker runs one. */
  readonly archiver: ServiceBusArchiver | null;
  readonly spoolDepth: () => number;
}

export async function wireArchive(deps: ArchiveWiringDeps, role: ArchiveRole = 'serve'): Promise<ArchiveWiring> {
  const { config, log, registry, lifecycle } = deps;
  const alog = log.child({ component: 'archive' });
  const { client: cosmos, embedded } = await createCosmosClient(config);
  if (embedded) lifecycle.onClose('embedded-cosmos', () => embedded.close());
  lifecycle.onClose('cosmos', async () => cosmos.dispose());
  const containers = await ensureArchiveContainers(cosmos, config.cosmos.database);
  const bulkOps = histogram(registry, 'voice_archive_bulk_ops', 'Transcript creates per Cosmos bulk request', [], [1, 2, 4, 8, 16, 32, 50]);
  const bulkPauses = counter(registry, 'voice_archive_bulk_pauses_total', 'Cosmos bulk requests that failed (creates then go singly for a cool-down)');
  const archive = new CosmosArchiveStore(containers.transcripts, {
    bulk: config.archive.bulkWrites,
    onBulkBatch: (n) => bulkOps.observe(n),
    onBulkPaused: (err, pausedMs) => {
      bulkPauses.inc();
      alog.warn({ err, pausedMs }, 'Cosmos bulk request failed: creating transcripts one by one for a while');
    },
  });
  const claims = new CosmosClaimStore(containers.claims);
  const spool = new FileSpool(config.archive.spoolDir);
  const analytics = new CosmosAnalyticsStore(containers.analytics);
  const processor = new ArchiveProcessor({ store: archive, sessions: deps.sessions, claims, registry, analytics });
  const runArchiver = role === 'archiver' || config.archive.inServe;

  const serviceBus = createServiceBusClient(config);
  let queue: ArchiveQueue;
  let archiver: ServiceBusArchiver | null = null;
  let spoolDepth: () => number;
  if (serviceBus) {
    const sbQueue = new ServiceBusArchiveQueue(
      { sender: serviceBus.createSender(config.serviceBus.archiveQueue), spool, claims, registry, log: alog },
      DEFAULT_QUEUE_CONFIG,
    );
    if (role === 'serve') sbQueue.start();
    queue = sbQueue;
    spoolDepth = () => sbQueue.spoolDepth;
    if (runArchiver) {
      archiver = new ServiceBusArchiver(
        { client: serviceBus, processor, registry, log: alog },
        { ...DEFAULT_ARCHIVER_CONFIG, queue: config.serviceBus.archiveQueue, concurrency: config.archive.concurrency },
      );
      archiver.start();
    }
    const a = archiver;
    // After the drain stage (every call finalized, its job enqueued or spooled): flush the spool to
    // Service Bus within the flush budget; what is left stays on disk and is named in the last log line.
    lifecycle.onFlush('archive', async (budgetMs) => {
      const [left] = await Promise.all([sbQueue.flush(budgetMs), a?.stop(budgetMs)]);
      return { spoolLeft: left, ...(sbQueue.unspooled > 0 ? { jobsNotSpooled: sbQueue.unspooled } : {}) };
    });
    // A job the spool could not take is held in memory and retried: degraded until it is written or sent.
    deps.readiness.push({ name: 'archive-spool', check: async () => (sbQueue.unspooled > 0 ? 'degraded' : 'ok') });
    lifecycle.onClose('servicebus', () => serviceBus.close());
  } else {
    const local = new InProcessArchiveQueue(
      { spool, processor: runArchiver ? processor : null, registry, log: alog },
      { concurrency: config.archive.concurrency, pollMs: 5000 },
    );
    local.start();
    queue = local;
    spoolDepth = () => local.spoolDepth;
    lifecycle.onFlush('archive', async (budgetMs) => {
      await local.stop(budgetMs);
      // The spool is this queue: what is left is archived by the next replica on the same spool.
      return { spoolLeft: (await spool.list().catch(() => [])).map((e) => e.name) };
    });
  }

  const keys = new RedisKeys(config);
  const cache = deps.redis ? new RedisProfileCache(deps.redis, (id) => keys.profileCache(id)) : new MemoryProfileCache();
  const profiles = new CachedProfileStore(
    { store: new CosmosProfileStore(containers.profiles), cache, registry, onCacheError: (err) => alog.warn({ err }, 'profile cache failed') },
    { ttlSeconds: config.ttl.profile },
  );

  const finalized = counter(registry, 'voice_archive_finalized_total', 'Finished calls handed to the archive', ['result']);
  const finalizer = createArchiveFinalizer({
    queue,
    conversations: deps.conversations,
    clock: deps.clock,
    onResult: (result) => finalized.inc({ result }),
  });

  deps.readiness.push({
    name: 'cosmos',
    // Readiness means "can take a new call": a Cosmos outage does not stop that (jobs wait in the
    // queue and the spool), so it reports 'degraded', never a failure.
    async check() {
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<'degraded'>((resolve) => (timer = setTimeout(() => resolve('degraded'), 1500)));
      try {
        return await Promise.race([containers.transcripts.read().then(() => 'ok' as const), slow]);
      } catch {
        return 'degraded';
      } finally {
        clearTimeout(timer);
      }
    },
  });
  deps.routes.push(
    transcriptRoutes({
      calls: deps.calls,
      conversations: deps.conversations,
      sessions: deps.sessions,
      archive,
      registry,
      clock: deps.clock,
      apiToken: config.apiToken,
    }),
    profileRoutes({ profiles, apiToken: config.apiToken }),
    analyticsRoutes({ analytics, apiToken: config.apiToken }),
  );
  alog.info(
    { cosmos: embedded ? 'embedded' : 'configured', queue: serviceBus ? 'servicebus' : 'in-process', archiver: runArchiver },
    'archive pipeline wired',
  );
  return { queue, finalizer, archive, analytics, hotCounters: new CosmosHotCounterArchive(containers.analytics), profiles, cosmos, embeddedCosmos: embedded, serviceBus, archiver, spoolDepth };
}
