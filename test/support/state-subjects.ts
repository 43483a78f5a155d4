// The state backends the contract suite runs against: in-process memory (with a controllable clock),
// a real single Redis, and a real Redis Cluster. Each subject builds the ports exactly as the
// composition root does (createRedisState for Redis).
import type { Config } from '../../src/config.js';
import type { AffinityStore, Clock, ConversationStore, EventRouter, SessionStore, TtsCache } from '../../src/domain/ports.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';
import { MemoryAffinityStore } from '../../src/adapters/memory/memory-affinity.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { MemoryEventRouter } from '../../src/adapters/memory/memory-event-router.js';
import { MemorySessionStore, MemoryTtsCache } from '../../src/adapters/memory/memory-session-store.js';
import { waitForReady, type RedisClient } from '../../src/adapters/redis/redis-client.js';
import { createRedisClient } from '../../src/wiring/clients.js';
import { createRedisState, type RedisState } from '../../src/wiring/redis-wiring.js';
import type { ContractSubject } from './contract.js';
import { removeClusterKeys } from './redis-cluster.js';
import { removeKeys, testConfig } from './test-env.js';

export interface StateBundle {
  readonly config: Config;
  readonly conversations: ConversationStore;
  readonly sessions: SessionStore;
  readonly ttsCache: TtsCache;
  readonly affinity: AffinityStore;
  readonly router: EventRouter;
  /** Lets `seconds` of TTL pass (fake clock for memory, real time for Redis). */
  pass(seconds: number): Promise<void>;
  /** Redis subjects: the wiring and client (for scans and round-trip counts). */
  readonly redis?: { readonly client: RedisClient; readonly wired: RedisState };
}

export class ManualClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.t;
  }
}

export const CONTRACT_ENV = { HISTORY_MAX_TURNS: '5', TTL_LEASE: '1', TTL_PENDING: '30' } as const;

export function memorySubject(): ContractSubject<StateBundle> {
  return {
    name: 'memory',
    async make() {
      const config = testConfig({ STATE_BACKEND: 'memory', ...CONTRACT_ENV });
      const clock = new ManualClock();
      const impl: StateBundle = {
        config,
        conversations: new MemoryConversationStore({ clock }, { ttl: config.ttl, historyMaxTurns: config.state.historyMaxTurns }),
        sessions: new MemorySessionStore({ clock }, config.ttl),
        ttsCache: new MemoryTtsCache({ clock }, config.ttl.tts),
        affinity: new MemoryAffinityStore({ clock }, config.ttl.lease),
        router: new MemoryEventRouter({ clock }, { holdSeconds: config.ttl.pending, maxPerCall: 64 }),
        async pass(seconds) {
          clock.t += seconds * 1000;
        },
      };
      return { impl, cleanup: async () => undefined };
    },
  };
}

/** Builds the Redis state for a config (single node or cluster); cleanup removes the test's keys. */
export async function makeRedisBundle(config: Config): Promise<{ impl: StateBundle; cleanup: () => Promise<void> }> {
  const log = silentLogger();
  const client = createRedisClient(config.state, log);
  await waitForReady(client, 10_000);
  const wired = createRedisState({ client, registry: createRegistry({ defaultMetrics: false }), log, clock: { now: () => Date.now(), monotonic: () => performance.now() } }, config);
  await wired.workers.start();
  const impl: StateBundle = {
    config,
    ...wired.state,
    async pass(seconds) {
      await new Promise((r) => setTimeout(r, seconds * 1000 + 150));
    },
    redis: { client, wired },
  };
  return {
    impl,
    async cleanup() {
      await wired.close(500);
      client.disconnect();
      if (config.state.clusterNodes.length > 0) await removeClusterKeys(config.state.clusterNodes, config.appName);
      else await removeKeys(config.state.redisUrl, config.appName);
    },
  };
}

export function redisSubject(name: string, env: () => Record<string, string>): ContractSubject<StateBundle> {
  return {
    name,
    // TTS_CACHE_MEMORY_MB=0: the contract checks what Redis holds, not the in-process tier in front of it.
    make: () => makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_COMMAND_TIMEOUT_MS: '2000', TTS_CACHE_MEMORY_MB: '0', ...CONTRACT_ENV, ...env() })),
  };
}
