// Redis goes away for 10 s in the middle of 20 conversations. Every turn keeps being accepted (the
// outbox takes it), reads come from memory, readiness reports the outage, and when Redis is back the
// outbox replays: every turn of every call is in Redis, in order, exactly once.
// The private server keeps an append-only file so the data written before the outage survives the
// restart, like a managed Redis failing over or a network partition healing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisReadiness, type RedisClient } from '../../src/adapters/redis/redis-client.js';
import { createRedisClient } from '../../src/wiring/clients.js';
import { createRedisState, type RedisState } from '../../src/wiring/redis-wiring.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry, type Registry } from '../../src/metrics.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { testConfig } from '../support/test-env.js';
import type { Config } from '../../src/config.js';

const CALLS = 20;
const OUTAGE_MS = 10_000;
const TURN_EVERY_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values[0]?.value ?? NaN;
}

describe('Redis outage during live calls', () => {
  let server: PrivateRedis;
  let dir: string;
  let client: RedisClient;
  let wired: RedisState;
  let registry: Registry;
  let config: Config;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redis-outage-'));
    server = await startRedisServer({ extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] });
    config = testConfig({ STATE_BACKEND: 'redis', REDIS_URL: server.url, REDIS_COMMAND_TIMEOUT_MS: '200', HISTORY_MAX_TURNS: '1000' });
    client = createRedisClient(config.state, silentLogger());
    registry = createRegistry({ defaultMetrics: false });
    wired = createRedisState({ client, registry, log: silentLogger(), clock: { now: () => Date.now(), monotonic: () => performance.now() } }, config);
  });
  afterAll(async () => {
    await wired?.close(0);
    client?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every call taking turns and replays them all, in order, once', async () => {
    const conv = wired.state.conversations;
    const readiness = [redisReadiness(client), ...wired.readiness];
    const check = async () => Promise.all(readiness.map((c) => c.check().catch(() => 'fail')));
    let running = true;
    let rejected = 0;
    const seqs = new Array<number>(CALLS).fill(0);
    const loops = Array.from({ length: CALLS }, async (_, i) => {
      const callId = `outage-${i}`;
      await conv.updateContext(callId, { call: i });
      while (running) {
        const seq = ++seqs[i]!;
        try {
          const turn = { seq, speaker: seq % 2 ? ('user' as const) : ('assistant' as const), text: `call ${i} turn ${seq}`, at: Date.now() };
          // as the turn pipeline does: the caller's turn is stored and the conversation read in one
          // operation (what the responder reads), the agent's turn is stored alone
          const read = turn.speaker === 'user' ? await conv.appendTurnAndRead(callId, turn) : null;
          const r = read ?? (await conv.appendTurn(callId, turn));
          if (!r.stored) rejected++;
          const s = read ? read.state : await conv.getState(callId);
          if (s.history[s.history.length - 1]?.seq !== seq || s.context['call'] !== i) rejected++;
        } catch {
          rejected++;
        }
        await sleep(TURN_EVERY_MS);
      }
    });

    await sleep(1000);
    expect(await check()).toEqual(['ok', 'ok']);
    await server.stop();
    await sleep(OUTAGE_MS / 2);
    // mid-outage: calls go on; readiness is degraded (new calls still fit the local ceiling), the outbox too
    expect(await check()).toEqual(['degraded', 'degraded']);
    expect(await metric(registry, 'voice_redis_up')).toBe(0);
    expect(await metric(registry, 'voice_redis_outbox_depth')).toBeGreaterThan(0);
    // the TTS cache never fails a turn: what the replica holds in memory is still served, the Redis
    // store is skipped (counted), and a sentence held nowhere is a miss
    await wired.state.ttsCache.put('tts-during-outage', new Uint8Array([1, 2, 3]));
    expect(await wired.state.ttsCache.get('tts-during-outage')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await wired.state.ttsCache.getMany(['tts-never-stored', 'tts-during-outage'])).toEqual([null, new Uint8Array([1, 2, 3])]);
    expect(await metric(registry, 'voice_tts_cache_unavailable_total')).toBeGreaterThan(0);
    await sleep(OUTAGE_MS / 2);
    await server.start();
    await sleep(1000);
    running = false;
    await Promise.all(loops);
    expect(await wired.outbox.flush(20_000)).toBe(true);
    expect(await check()).toEqual(['ok', 'ok']);
    expect(await metric(registry, 'voice_redis_outbox_depth')).toBe(0);
    expect(rejected).toBe(0);

    const r = new Redis(server.url);
    try {
      for (let i = 0; i < CALLS; i++) {
        const callId = `outage-${i}`;
        const members = await r.zrange(wired.keys.conversationHistory(callId), 0, -1);
        const turns = members.map((m) => JSON.parse(m) as { seq: number; text: string });
        expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: seqs[i]! }, (_, k) => k + 1));
        expect(turns.every((t) => t.text === `call ${i} turn ${t.seq}`)).toBe(true);
        expect(await r.hget(wired.keys.conversationMeta(callId), 'count')).toBe(String(seqs[i]));
        expect(await r.hget(wired.keys.conversationContext(callId), 'call')).toBe(String(i));
      }
      // the outage lasted long enough that every call wrote through the outbox
      expect(Math.min(...seqs)).toBeGreaterThan((OUTAGE_MS / TURN_EVERY_MS) * 0.5);
    } finally {
      r.disconnect();
    }
  }, 60_000);
});
