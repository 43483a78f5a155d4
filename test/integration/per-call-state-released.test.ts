// What a replica keeps per call is released when the call ends, not when a TTL or a size bound
// catches up with it: the soak (bench/soak.mjs, heap snapshots compared with scripts/heap-diff.mjs)
// found two stores that grew with every call for the whole run. Whole calls from the simulator (a
// local ACS) against a real worker on a private redis-server; once they have ended:
// - the in-process mirror of each call's conversation (ResilientConversationStore) is empty
//   (it was kept MIRROR_IDLE_S = 600 s after the last write: ~9 MB over a 10-minute soak);
// - no transcription socket's forwarding credentials are left (they were kept up to 10,000 calls:
//   ~1 KB of ACS token each);
// - and the live-call registry, media sessions and sockets are back to zero.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResilientConversationStore } from '../../src/adapters/redis/resilient-conversation-store.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { eventually, workerCallId } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { testConfig } from '../support/test-env.js';

describe('per-call state is released when the call ends (private redis-server)', () => {
  let redis: PrivateRedis;
  let sim: Simulator;
  let worker: Worker;

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator();
    const port = await freePort();
    worker = await createWorker(
      testConfig({ ...sim.workerEnv(), REDIS_URL: redis.url, PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, WORKER_ID: `w-${randomUUID().slice(0, 8)}` }),
      silentLogger(),
      { defaultMetrics: false },
    );
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop('test end').catch(() => undefined);
    await sim?.close();
    await redis?.stop();
  });

  it('after whole calls: no conversation mirror, no forwarding credentials, no live call, session or socket', async () => {
    const before = sim.calls.length;
    const report = await sim.runCalls({ target: `${worker.config.publicBaseUrl}/api/incoming-call`, calls: 2, concurrency: 2, scenario: 'hangup-mid-reply', durationS: 0 });
    expect(report.calls.succeeded).toBe(2);
    const ids = sim.calls.slice(before).map(workerCallId);
    await eventually(() => (worker.calls.size === 0 && worker.media.sessionCount === 0 && worker.media.server.size === 0 ? true : undefined), 10_000);
    const outbox = worker.state.conversations as ResilientConversationStore;
    expect(typeof outbox.held).toBe('function');
    for (const id of ids) {
      // Redis still has the conversation (its TTL), this replica's memory does not.
      const held = await outbox.held(id);
      expect(held.history, id).toEqual([]);
      expect(held.context, id).toEqual({});
      expect((await outbox.getState(id)).history.length, id).toBeGreaterThan(0);
    }
    expect(worker.media.forwardingCredentials).toBe(0);
  });
});
