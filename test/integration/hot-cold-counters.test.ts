// Hot → cold for counters (issue 18 item 6) on a private redis-server and the local Cosmos server
// (real ioredis and @azure/cosmos SDKs), through the worker's own wiring: the console's day counters
// (a Redis hash with TTL_CONSOLE_DAY, here 1 s) are compacted to Cosmos in the background
// (HOT_COMPACTION_INTERVAL_MS, here 100 ms) and stay readable after their Redis key has expired —
// read from the Cosmos copy and re-cached in Redis with the type's TTL.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/test-env.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { silentLogger } from '../../src/logger.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { waitFor } from './archive-rig.js';
import { randomUUID } from 'node:crypto';
import { buildArchiveJob } from '../../src/domain/archive/job-builder.js';
import { emptyConversation } from '../../src/domain/conversation.js';

describe('hot counters outlive their Redis TTL', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let worker: Worker;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    await redis.start();
    client = new Redis(redis.url);
    dir = await mkdtemp(join(tmpdir(), 'hot-cold-'));
    worker = await createWorker(
      testConfig({ SPOOL_DIR: dir, REDIS_URL: redis.url, TTL_CONSOLE_DAY: '1', TTL_SUMMARY: '1', HOT_COMPACTION_INTERVAL_MS: '100' }),
      silentLogger(),
      { defaultMetrics: false },
    );
    url = (await worker.start()).url;
  });

  afterAll(async () => {
    await worker?.stop('test');
    client?.disconnect();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const metric = async (name: string, label: string, value: string) =>
    (await worker.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels[label] === value)?.value ?? 0;

  it('a day counter compacted to Cosmos is still readable once its key expired, and is re-cached with the TTL', async () => {
    const now = new Date();
    const day = now.toISOString().slice(0, 10);
    const hour = now.getUTCHours();
    const key = new RedisKeys(worker.config).consoleDay(day);
    const hot = worker.console.hotCounters;
    expect(hot).not.toBeNull();
    await worker.console.store.recordEnded(day, hour, 'completed', 1200, 1);
    await worker.console.store.recordEnded(day, hour, 'caller-hangup', 800, 1);
    const expected = { calls: 2, 'outcome:completed': 1, 'outcome:caller-hangup': 1, [`hour:${hour}`]: 2, durationMs: 2000 };
    expect(await hot?.readDay(day)).toEqual(expected);

    await waitFor(async () => (await worker.archive.hotCounters.load('consoleDay', day))?.fields.calls === 2, 3_000, 'compacted');
    await waitFor(async () => (await client.exists(key)) === 0, 3_000, 'Redis key expired');

    // (The console's summary view reads through the same path: count relative to what it did.)
    const fromCosmos = await metric('voice_hot_counter_reads_total', 'source', 'cosmos');
    expect(await hot?.readDay(day)).toEqual(expected);
    expect(await metric('voice_hot_counter_reads_total', 'source', 'cosmos')).toBe(fromCosmos + 1);
    // Re-cached with TTL_CONSOLE_DAY (1 s) and answered by Redis next time.
    const pttl = await client.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    const fromRedis = await metric('voice_hot_counter_reads_total', 'source', 'redis');
    expect(await hot?.readDay(day)).toEqual(expected);
    expect(await metric('voice_hot_counter_reads_total', 'source', 'redis')).toBe(fromRedis + 1);
    expect(await metric('voice_hot_compactions_total', 'result', 'failed')).toBe(0);
    const lag = (await worker.registry.getSingleMetric('voice_hot_compaction_lag_seconds')?.get())?.values[0]?.value;
    expect(lag).toBeLessThan(1);
  });

  it('a call summary: Redis while cached, then rebuilt from the archived transcript and re-cached with the summary TTL', async () => {
    const callId = randomUUID();
    const endedAt = Date.now();
    const job = buildArchiveJob({ call: { callId, from: '4:+1425555****', to: '4:+1800555****', startedAt: endedAt - 4000, callConnectionId: null, correlationId: null }, conversation: emptyConversation(callId), outcome: 'completed', endedAt });
    await worker.archive.queue.enqueue(job);
    await waitFor(async () => (await worker.archive.archive.getTranscript(callId)) !== null, 5_000, 'archived');
    const get = () => fetch(`${url}/api/calls/${callId}/summary`);
    const first = await get();
    expect(first.headers.get('x-summary-source')).toBe('redis');
    const body = await first.json();
    expect(body).toMatchObject({ callId, outcome: 'completed', durationMs: 4000, archived: true });
    const key = new RedisKeys(worker.config).callSummary(callId);
    await waitFor(async () => (await client.exists(key)) === 0, 3_000, 'summary key expired');
    const cold = await get();
    expect(cold.headers.get('x-summary-source')).toBe('cosmos');
    expect(await cold.json()).toEqual(body);
    const pttl = await client.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    expect((await get()).headers.get('x-summary-source')).toBe('redis');
    expect((await fetch(`${url}/api/calls/${randomUUID()}/summary`)).status).toBe(404);
  });

  it('a late, older snapshot never overwrites a newer copy', async () => {
    const cold = worker.archive.hotCounters;
    expect(await cold.save('consoleDay', '2001-01-01', { calls: 5 }, 1)).toBe('written');
    expect(await cold.save('consoleDay', '2001-01-01', { calls: 4 }, 2)).toBe('stale');
    expect(await cold.save('consoleDay', '2001-01-01', { calls: 5 }, 3)).toBe('unchanged');
    expect((await cold.load('consoleDay', '2001-01-01'))?.fields).toEqual({ calls: 5 });
  });
});
