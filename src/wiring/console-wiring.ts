// Wires the operator console: its store (Redis, or memory for STATE_BACKEND=memory), the feed that
// turns call activity into console events, the bus and the SSE hub of this replica, the cache-aside
// views, sign-in and the routes. The composition root calls wireConsole once, hands the feed every
// call it drives (feed.track) and the conversation store to observe (feed.observe).
//
// The live view: each replica writes its own calls into one Redis hash (a field per call, 15 s TTL
// on the key) when a call starts, changes phase or ends, and rewrites all of them with its health
// every LIVE_REFRESH_MS; readers drop fields older than the TTL (a replica that died). The
// active-calls and summary caches are reloaded (debounced) by the events that change them.
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { Clock, ConversationStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { counter, gauge, histogram, type Registry } from '../metrics.js';
import type { Lifecycle } from '../server/lifecycle.js';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { RedisKeys } from '../adapters/redis/keys.js';
import { RedisConsoleStore } from '../adapters/redis/redis-console-store.js';
import { MemoryConsoleStore } from '../adapters/memory/memory-console-store.js';
import type { ConsoleStore } from '../domain/console/console-store.js';
import type { ColdCounters } from '../domain/analytics/hot-counters.js';
import { wireHotCounters, type HotCounters } from './hot-cold-wiring.js';
import { ConsoleFeed } from '../domain/console/console-feed.js';
import type { ConsoleCallView, ConsoleEvent } from '../domain/console/console-events.js';
import { daySummary, utcDay } from '../domain/console/day-summary.js';
import { CacheAside } from '../server/console/cache-aside.js';
import { ConsoleAuth } from '../server/console/console-auth.js';
import { consoleRoutes } from '../server/console/console-routes.js';
import { SseHub } from '../server/console/sse-hub.js';

export const LIVE_REFRESH_MS = 5000;
const TICK_MS = 250;
const SESSION_CHECK_MS = 30_000;

export interface ReplicaHealth {
  readonly workerId: string;
  readonly calls: number;
  readonly redis: 'up' | 'down' | 'memory';
  readonly outboxDepth: number;
  /** Archive jobs waiting in the local spool (Service Bus unreachable). */
  readonly archiveSpooled: number;
  readonly consoles: number;
  readonly updatedAt: number;
}

export interface ConsoleWiringDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
  readonly routes: FastifyPluginAsync[];
  readonly redis: { readonly client: RedisClient; readonly keys: RedisKeys } | null;
  /** Reads transcripts (the store the turn pipeline writes through, unobserved). */
  readonly conversations: ConversationStore;
  readonly clock: Clock;
  /** This replica's health apart from the console's own fields. */
  readonly health: () => Omit<ReplicaHealth, 'workerId' | 'consoles' | 'updatedAt'>;
  /** Cold copies of the day counters (Cosmos): compacted in the background, read when Redis has none. */
  readonly coldCounters?: ColdCounters;
}

export interface ConsoleWiring {
  readonly feed: ConsoleFeed;
  readonly cache: CacheAside;
  readonly hub: SseHub;
  readonly store: ConsoleStore;
  readonly hotCounters: HotCounters | null;
  /** Subscribes the bus, warms the caches, starts the refresh timers. */
  start(): Promise<void>;
}

export function wireConsole(deps: ConsoleWiringDeps): ConsoleWiring {
  const { config, log, registry, clock } = deps;
  const clog = log.child({ component: 'console' });
  const ttl = config.ttl;
  const store: ConsoleStore = deps.redis ? new RedisConsoleStore(deps.redis, clog) : new MemoryConsoleStore({ clock });
  const hotCounters = deps.coldCounters ? wireHotCounters({ config, log, registry, lifecycle: deps.lifecycle, clock, store, cold: deps.coldCounters }) : null;
  const published = counter(registry, 'voice_console_events_total', 'Console events published by this replica', ['type']);
  const publishFailed = counter(registry, 'voice_console_publish_failures_total', 'Console events or live-view writes that failed (Redis unreachable)');
  const dropped = counter(registry, 'voice_console_streams_dropped_total', 'Console event streams ended by the server', ['reason']);
  const lag = histogram(registry, 'voice_console_bus_lag_seconds', 'Console event published to received from the bus, on this replica', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]);
  const hub = new SseHub({ ringSize: 2000, maxBufferedBytes: 256 * 1024, heartbeatMs: 15_000 }, { dropped: (reason) => dropped.inc({ reason }) });
  gauge(registry, 'voice_console_streams', 'Console event streams open on this replica', [], function () {
    this.set(hub.size);
  });

  let seq = 0;
  const idPrefix = `${config.workerId.replace(/[^A-Za-z0-9_-]/g, '')}.${clock.now().toString(36)}`;
  const publish = (event: ConsoleEvent) => {
    published.inc({ type: event.type });
    const id = `${idPrefix}.${++seq}`;
    // `at` is the publish time (the browser's push latency is measured from it).
    const message = `${id}\n${clock.now()}\n${JSON.stringify(event)}`;
    store.publish(message).catch(() => publishFailed.inc());
  };

  const cache = new CacheAside({ store, registry });
  const liveWrite = (upsert: [string, string][], remove: string[], withHealth: boolean) =>
    store
      .writeLive({ upsert, remove, ...(withHealth ? { replica: [config.workerId, JSON.stringify(health())] as const } : {}) }, ttl.consoleLive)
      .catch(() => publishFailed.inc());
  const health = (): ReplicaHealth => ({ ...deps.health(), workerId: config.workerId, consoles: hub.size, updatedAt: clock.now() });

  const feed = new ConsoleFeed(
    {
      publish,
      now: () => clock.now(),
      liveChanged: (callId, view, ended) => {
        const write = view ? liveWrite([[callId, JSON.stringify(view)]], [], false) : liveWrite([], [callId], true);
        // The active-calls view is refreshed by the event (not only by its TTL), once written.
        void write.then(() => cache.refreshSoon('active-calls'));
        if (ended) {
          const { day, hour } = utcDay(clock.now());
          void store
            .recordEnded(day, hour, ended.outcome, ended.durationMs, ttl.consoleDay)
            .then(() => cache.refreshSoon('summary'))
            .catch(() => publishFailed.inc());
        }
      },
    },
    { workerId: config.workerId },
  );

  cache.define({
    name: 'active-calls',
    ttlS: ttl.consoleLive,
    load: async () => {
      const raw = await store.readLive();
      const oldest = clock.now() - ttl.consoleLive * 1000;
      const calls: ConsoleCallView[] = [];
      const staleCalls: string[] = [];
      for (const s of raw.calls) {
        const v = JSON.parse(s) as ConsoleCallView;
        if (v.updatedAt >= oldest) calls.push(v);
        else staleCalls.push(v.callId);
      }
      const replicas: ReplicaHealth[] = [];
      const staleReplicas: string[] = [];
      for (const s of raw.replicas) {
        const r = JSON.parse(s) as ReplicaHealth;
        if (r.updatedAt >= oldest) replicas.push(r);
        else staleReplicas.push(r.workerId);
      }
      void store.pruneLive(staleCalls, staleReplicas).catch(() => undefined);
      calls.sort((a, b) => a.startedAt - b.startedAt || a.callId.localeCompare(b.callId));
      replicas.sort((a, b) => a.workerId.localeCompare(b.workerId));
      return { calls, replicas };
    },
  });
  cache.define({
    name: 'summary',
    ttlS: ttl.consoleSummary,
    load: async () => {
      const { day } = utcDay(clock.now());
      return daySummary(day, hotCounters ? await hotCounters.readDay(day) : await store.readDay(day));
    },
  });
  // Filled in by the campaigns issue; until then the console says "no campaigns".
  cache.define({ name: 'campaigns', ttlS: ttl.consoleCampaigns, load: async () => ({ campaigns: [] }) });

  const auth = new ConsoleAuth({ store }, { apiToken: config.apiToken, sessionTtlS: ttl.operatorSession });
  deps.routes.push(consoleRoutes({ auth, cache, hub, conversations: deps.conversations }));

  const timers: NodeJS.Timeout[] = [];
  let closed = false;
  deps.lifecycle.onDrain('console', async () => {
    closed = true;
    for (const t of timers) clearInterval(t);
    cache.close();
    hub.closeAll();
  });
  deps.lifecycle.onClose('console', () => store.close());

  return {
    feed,
    cache,
    hub,
    store,
    hotCounters,
    async start() {
      await store.subscribe((message) => {
        const a = message.indexOf('\n');
        const b = message.indexOf('\n', a + 1);
        if (a <= 0 || b <= a) return;
        const at = Number(message.slice(a + 1, b));
        if (Number.isFinite(at)) lag.observe(Math.max(0, clock.now() - at) / 1000);
        hub.deliver(message.slice(0, a), `{"at":${at},${message.slice(b + 2)}`);
      });
      if (closed) return;
      const tick = setInterval(() => feed.tick(), TICK_MS);
      const refresh = setInterval(() => {
        const views = feed.views();
        // Replica health changed too: the view is refreshed now rather than at its expiry.
        void liveWrite(views.map((v) => [v.callId, JSON.stringify(v)]), [], true).then(() => cache.refreshSoon('active-calls'));
      }, LIVE_REFRESH_MS);
      const sessions = setInterval(() => {
        for (const hash of hub.sessions()) {
          void auth.stillValid(hash).then(
            (ok) => (ok ? undefined : hub.closeSession(hash)),
            () => undefined,
          );
        }
      }, SESSION_CHECK_MS);
      for (const t of [tick, refresh, sessions]) {
        t.unref();
        timers.push(t);
      }
      await liveWrite([], [], true);
      await cache.warm();
    },
  };
}
