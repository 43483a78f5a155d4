// The composition root: builds the SDK clients (clients.ts) once and wires adapters into the domain.
import { applyV8Tuning } from '../v8-tuning.js';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { ReadinessCheck } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { createRegistry, type Registry } from '../metrics.js';
import { systemClock } from '../adapters/system-clock.js';
import { MemoryConversationStore } from '../adapters/memory/memory-conversation-store.js';
import { MemorySessionStore, MemoryTtsCache } from '../adapters/memory/memory-session-store.js';
import { MemoryAffinityStore } from '../adapters/memory/memory-affinity.js';
import { redisReadiness, type RedisClient } from '../adapters/redis/redis-client.js';
import { createAcsVerifier, createCallAutomationClient, createConversationClients, createRedisClient } from './clients.js';
import { createRedisState, type RedisState } from './redis-wiring.js';
import { collectHeld, ownerReassert } from './owner-reassert.js';
import { counter } from '../metrics.js';
import { buildServer, type UpgradeHandler } from '../server/app.js';
import { Lifecycle } from '../server/lifecycle.js';
import { CallRegistry } from '../domain/live-call.js';
import { LeaseKeeper } from '../domain/lease-keeper.js';
import { MemoryEventRouter } from '../adapters/memory/memory-event-router.js';
import type { AffinityStore, CallbackEnvelope, CallControl, Clock, ConversationStore, EventRouter, SessionStore, TtsCache } from '../domain/ports.js';
import { AcsCallControl, UnconfiguredCallControl } from '../adapters/acs/call-control.js';
import { wireEdge, type Edge } from './edge-wiring.js';
import { createAdmission, type SharedRateLimiter } from '../server/admission.js';
import { RedisRateLimiter } from '../adapters/redis/redis-admission.js';
import type { CallAdmission } from '../server/call-admission.js';
import { wireAdmission } from './admission-wiring.js';
import { wireCampaigns } from './campaign-wiring.js';
import type { CampaignService } from '../server/campaign-service.js';
import { wireConversation, type ConversationWiring } from './conversation-wiring.js';
import type { LiveCall } from '../domain/live-call.js';
import type { TurnMetrics } from '../domain/turn/turn-ports.js';
import { wireMedia, type MediaPath } from './media-wiring.js';
import { peerRoutes } from '../server/peer-routes.js';
import { wireArchive, type ArchiveRole, type ArchiveWiring } from './archive-wiring.js';
import { trackCallForArchive } from '../domain/archive/job-builder.js';
import { loadCallerProfile } from '../adapters/cosmos/cached-profile-store.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTracing } from '../adapters/telemetry/tracing.js';
import { CallTracer } from '../adapters/telemetry/call-tracer.js';
import { wireConsole, type ConsoleWiring } from './console-wiring.js';
import { wireTransfers } from './transfer-wiring.js';
import type { CallTransfers } from '../domain/call-transfer.js';

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
  /** Call Automation (the SDK against ACS or the simulator). */
  readonly control: CallControl;
  /** The ACS edge: onFinalize / onIncoming hooks, resolveCall and dispatch for the media path. */
  readonly edge: Edge;
  /** The conversation loop: `conversation.attach(call, { callControl })` starts a call's turn pipeline. */
  readonly conversation: ConversationWiring;
  /** The media WebSocket path: sessions, playout scheduler, metrics. */
  readonly media: MediaPath;
  /** The archive pipeline: queue, finalizer hook, archive store, caller profiles. */
  readonly archive: ArchiveWiring;
  /** The operator console: feed, caches, event hub. */
  readonly console: ConsoleWiring;
  /** Transfer to a human: `transfers.transfer(callId, { target })` (a realtime model's tool, say). */
  readonly transfers: CallTransfers;
  /** Cluster-wide call slots (tenants, global cap, rate limit). */
  readonly admission: CallAdmission;
  /** Outbound campaigns driven from this replica (null for the archiver role). */
  readonly campaigns: CampaignService | null;
  /** Listens on config.host:config.port (0 = any free port); resolves with the bound port. */
  start(): Promise<{ port: number; url: string }>;
  /** Drains and closes everything; idempotent. */
  stop(reason?: string): Promise<void>;
}

export interface WorkerOptions {
  /** Collect process-level default metrics (off in tests that build several workers). */
  readonly defaultMetrics?: boolean;
  readonly clock?: Clock;
  /** Replaces the Call Automation adapter (unit tests with a fake). */
  readonly callControl?: CallControl;
  /** The LiveCall for an authenticated media upgrade (default: this replica's registry only). */
  readonly resolveCall?: (callId: string) => Promise<LiveCall | null>;
  /** Delivers a callback held while the call had no owner (default: the edge's state machine, edge.dispatchLocal). */
  readonly dispatchCallback?: (call: LiveCall, env: CallbackEnvelope) => void;
  /** 'archiver' runs only the archive consumer's side of the archive wiring (no sender). */
  readonly role?: ArchiveRole;
  /** Replaces the configured span exporter and turns tracing on (tests: an in-memory exporter). */
  readonly spanExporter?: SpanExporter;
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
  applyV8Tuning({ pretenuring: config.v8Pretenuring });
  const clock = opts.clock ?? systemClock;
  const registry = createRegistry({ defaultMetrics: opts.defaultMetrics ?? true, labels: { worker: config.workerId } });
  const lifecycle = new Lifecycle({ drainTimeoutMs: config.shutdownDrainTimeoutMs }, log);
  const leaseEvents = counter(registry, 'voice_owner_leases_total', 'Owner lease events of this replica', ['event']);
  const readiness: ReadinessCheck[] = [];
  const routes: FastifyPluginAsync[] = [];
  const upgrades = new Map<string, UpgradeHandler>();
  const calls = new CallRegistry();
  const tracing = createTracing({ ...config.telemetry, workerId: config.workerId }, log.child({ component: 'tracing' }), opts.spanExporter);
  const callTracer = tracing.tracer ? new CallTracer(tracing.tracer) : null;
  // Late-bound: the Redis tier is built before the lease keeper and the edge it reports to.
  let leasesRef: LeaseKeeper | null = null;
  let reassert: ((callIds: string[]) => Promise<void>) | null = null;
  let redisState: RedisState | null = null;

  let redis: RedisClient | null = null;
  let state: StateAdapters;
  let limiter: SharedRateLimiter | null = null;
  if (config.state.backend === 'redis') {
    redis = createRedisClient(config.state, log.child({ component: 'redis' }));
    readiness.push(redisReadiness(redis));
    const client = redis;
    lifecycle.onClose('redis', async () => {
      await client.quit().catch(() => client.disconnect());
    });
    const rs = createRedisState(
      {
        client,
        registry,
        log: log.child({ component: 'redis-state' }),
        clock,
        isLocal: (callId) => calls.get(callId) !== undefined,
        fenceOf: (callId) => leasesRef?.fenceOf(callId) ?? 0,
        // Redis is back (maybe empty): renew now and write back every live call's state.
        onReconnect: () => void leasesRef?.resync(),
      },
      config,
    );
    redisState = rs;
    state = rs.state;
    calls.onRemove((call) => {
      rs.localSessions.forget(call.callId);
      rs.outbox.forget(call.callId);
    });
    limiter = new RedisRateLimiter({ scripts: rs.scripts, keys: rs.keys }, config.ttl);
    readiness.push(...rs.readiness);
    lifecycle.onClose('redis-state', () => rs.close());
  } else {
    state = memoryState(config, clock);
  }

  let edgeRef: Edge | null = null;
  const leases = new LeaseKeeper(
    {
      affinity: state.affinity,
      onLost: (callId) => {
        leaseEvents.inc({ event: 'lost' });
        log.warn({ callId }, 'owner lease lost to another replica');
        // Another replica holds the call now (higher fence): hand it over, without hanging up.
        edgeRef?.supervisor.get(callId)?.handOver('lease lost to a newer owner');
      },
      onReasserted: (callIds) => {
        leaseEvents.inc({ event: 'reasserted' }, callIds.length);
        void reassert?.(callIds);
      },
    },
    { workerId: config.workerId, leaseSeconds: config.ttl.lease },
    log.child({ component: 'leases' }),
  );
  leasesRef = leases;
  leases.start();
  lifecycle.onClose('leases', () => leases.stop());

  const archive = await wireArchive(
    { config, log, registry, lifecycle, readiness, routes, calls, conversations: state.conversations, sessions: state.sessions, redis, clock },
    opts.role ?? 'serve',
  );
  const acsClient = opts.callControl ? null : createCallAutomationClient(config.acs);
  const control: CallControl =
    opts.callControl ??
    (acsClient ? new AcsCallControl(acsClient, {
          requestTimeoutMs: config.acs.requestTimeoutMs,
          cognitiveServicesEndpoint: config.acs.cognitiveServicesEndpoint,
        }) : new UnconfiguredCallControl());
  if (!acsClient && !opts.callControl) log.warn('ACS is not configured: incoming calls cannot be answered');
  // One verifier (one JWKS cache) for callbacks and media upgrades alike.
  const jwksFailures = counter(registry, 'voice_acs_jwks_refresh_failures_total', 'ACS JWKS refreshes that failed', ['served']);
  const verifier = createAcsVerifier(config, {
    onStale: (ageMs, err) => {
      jwksFailures.inc({ served: 'last-good' });
      log.warn({ err, ageMs }, 'ACS JWKS refresh failed; serving the last good keys');
    },
    onUnavailable: (err) => {
      jwksFailures.inc({ served: 'none' });
      log.error({ err }, 'ACS JWKS unavailable and no recent keys: ACS tokens cannot be verified');
    },
  });
  // Redis down, or back for less than a lease TTL (owners re-assert what an empty Redis lost within it).
  let readySince = 0;
  // The client may be ready already (it connects on creation): that was the first 'ready', not a return.
  let readyEvents = redis?.status === 'ready' ? 1 : 0;
  redis?.on('ready', () => {
    if (readyEvents++ > 0) readySince = Date.now();
  });
  const admission = wireAdmission({ config, registry, log, clock, calls, lifecycle, redis: redis && redisState ? { client: redis, state: redisState } : null });
  const storeSettling = redis ? () => redis?.status !== 'ready' || Date.now() - readySince < config.ttl.lease * 1000 : undefined;
  const edge = wireEdge({
    ...(storeSettling ? { storeSettling } : {}),
    config,
    log,
    registry,
    lifecycle,
    calls,
    leases,
    sessions: state.sessions,
    conversations: state.conversations,
    router: state.router,
    affinity: state.affinity,
    control,
    verifier,
    routes,
    now: () => clock.now(),
    callAdmission: admission,
    admit: createAdmission(
      { calls, limiter, registry, log },
      { maxConcurrent: config.calls.maxConcurrent, perWindow: config.calls.incomingPerWindow },
    ),
  });
  edgeRef = edge;
  if (redisState) {
    const rs = redisState;
    const deliver = (_call: LiveCall, env: CallbackEnvelope) => void edge.dispatchLocal(env);
    reassert = ownerReassert(
      { calls, leases, sessions: rs.localSessions, conversations: rs.outbox, restorer: rs.restorer, router: state.router, deliver, registry, log: log.child({ component: 'owner' }) },
      { workerId: config.workerId, audioFormat: config.media.audioFormat },
    );
    // The event channel is subscribed again (after a reconnect): collect what was held meanwhile.
    // Once more a moment later: an event another replica published while the re-subscription was
    // still in flight found no subscriber and was held after the first collection.
    const collectAll = () => {
      for (const call of calls.values()) void collectHeld({ calls, router: state.router, deliver, log }, call.callId);
    };
    rs.onResubscribed(() => {
      collectAll();
      setTimeout(collectAll, 1500).unref();
    });
    // A call taken over here (its socket moved): keep its auth state and conversation in memory.
    edge.onResumed(async (call, conversation) => {
      await Promise.all([rs.localSessions.adopt(call.callId), conversation ? rs.outbox.adopt(conversation) : undefined]);
    });
  }
  // The operator console: every call this replica drives and every turn it stores is reported here.
  const consoleUi = wireConsole({
    config,
    log,
    registry,
    lifecycle,
    routes,
    redis: redis && redisState ? { client: redis, keys: redisState.keys } : null,
    conversations: state.conversations,
    clock,
    coldCounters: archive.hotCounters,
    health: () => ({
      calls: calls.size,
      redis: redis ? (redis.status === 'ready' ? 'up' : 'down') : 'memory',
      outboxDepth: redisState?.outbox.depth ?? 0,
      archiveSpooled: archive.spoolDepth(),
    }),
  });
  edge.supervisor.onAttach((call) => consoleUi.feed.track(call));
  const conversation = wireConversation(
    {
      ...state,
      conversations: consoleUi.feed.observe(state.conversations),
      registry,
      log,
      clock,
      clients: createConversationClients(config),
      ...(callTracer ? { callMetrics: (call: LiveCall, shared: TurnMetrics) => callTracer.metricsFor(call, shared) } : {}),
    },
    config,
  );
  // Every call this replica drives (answered here or resumed from a snapshot) gets a turn pipeline.
  // Its agent hang-up (goodbye) goes through the call's controller: finalized as agent-hangup.
  // Transfer to a human: registered before the pipelines are attached (each pipeline speaks its call's lines).
  const transfers = wireTransfers({ control, registry, conversation }, config);
  edge.supervisor.onAttach((call) => conversation.attach(call, { callControl: edge.supervisor.controlFor(call.callId) }));
  const warmUp = new AbortController();
  lifecycle.onDrain('conversation', () => {
    warmUp.abort();
    return conversation.drain();
  });
  // The archive step: markers recorded live, the job built and queued once at finalization.
  edge.supervisor.onAttach((call) => void trackCallForArchive(call));
  edge.onFinalize(
    callTracer
      ? (call, outcome) => {
          const t = callTracer.of(call);
          return t ? t.archive(() => archive.finalizer(call, outcome), outcome) : archive.finalizer(call, outcome);
        }
      : archive.finalizer,
  );
  // The call's trace starts with the IncomingCall it answers (spans: call → answer, turns, archive).
  if (callTracer) edge.onIncoming((call) => void callTracer.start(call));
  // Caller profile (cache-aside) into the conversation context while the call is answered.
  edge.onIncoming(async (call, caller) => {
    await loadCallerProfile({ profiles: archive.profiles, conversations: state.conversations, sessions: state.sessions }, call.callId, caller.rawId);
  });

  // Outbound campaigns: placed calls run this same supervisor, media path, conversation and archive.
  const campaigns =
    (opts.role ?? 'serve') === 'serve'
      ? await wireCampaigns({ config, log, clock, lifecycle, routes, cosmos: archive.cosmos, redis: redis && redisState ? { client: redis, state: redisState } : null, admission, supervisor: edge.supervisor, calls, sessions: state.sessions, control })
      : null;

  // Readiness means "can take a new call": not when this replica is at its ceiling.
  readiness.push({
    name: 'capacity',
    check: async () => {
      if (calls.size >= config.calls.maxConcurrent) throw new Error(`at capacity (${calls.size} calls)`);
      return 'ok';
    },
  });
  // Transcription sent straight from the replica holding a call's transcription socket (Redis down).
  let mediaRef: MediaPath | null = null;
  routes.push(
    peerRoutes({
      verifier,
      sessions: state.sessions,
      holds: (callId) => mediaRef?.session(callId) !== undefined,
      apply: (env) => mediaRef?.forwarder.apply(env) ?? false,
    }),
  );
  const app = buildServer(
    { log, registry, lifecycle, readiness, routes, upgrades },
    {
      bodyLimitBytes: 512 * 1024,
      readinessTimeoutMs: 2000,
      apiToken: config.apiToken,
      requestTimeoutMs: config.http.requestTimeoutMs,
      maxConnections: config.http.maxConnections,
    },
  );
  lifecycle.onClose('http', async () => {
    await app.close();
  });
  lifecycle.onClose('tracing', () => tracing.shutdown());

  const media = wireMedia({
    config,
    log,
    registry,
    lifecycle,
    upgrades,
    sessions: state.sessions,
    leases,
    router: state.router,
    verifier,
    resolveCall: opts.resolveCall ?? ((callId) => edge.resolveCall(callId)),
    dispatchCallback: opts.dispatchCallback ?? ((_call, env) => void edge.dispatchLocal(env)),
    ...(redisState && config.peerUrl ? { peers: () => (redisState as RedisState).workers.peers } : {}),
    // Answered here, its audio on the peer that just took its transcription: nothing of it stays here
    // (its media-connect timer could not confirm the owner while Redis is stalled, and outlived the call).
    onHeldByPeer: (callId) => {
      const c = edge.supervisor.get(callId);
      if (c && !c.finalized && c.streamsElsewhere) c.handOver('its audio is on the replica that accepted its transcription');
    },
  });
  mediaRef = media;
  // Transcription a non-owner replica forwarded here (pub/sub, or held and collected) feeds the call's media session.
  edge.onForwardedMedia((env) => media.forwarder.apply(env));

  let started = false;
  return {
    admission,
    campaigns,
    config,
    log,
    registry,
    lifecycle,
    app,
    state,
    redis,
    calls,
    leases,
    control,
    edge,
    conversation,
    media,
    archive,
    console: consoleUi,
    transfers,
    async start() {
      await app.listen({ port: config.port, host: config.host });
      started = true;
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      log.info({ port, workerId: config.workerId, state: config.state.backend }, 'listening');
      consoleUi.start().catch((err: unknown) => log.warn({ err }, 'console start failed'));
      conversation.warmUp(warmUp.signal).catch((err: unknown) => log.warn({ err }, 'TTS warm-up failed'));
      return { port, url: `http://127.0.0.1:${port}` };
    },
    async stop(reason = 'stop') {
      if (!started) await Promise.resolve(app.ready()).catch(() => undefined);
      await lifecycle.shutdown(reason);
    },
  };
}
