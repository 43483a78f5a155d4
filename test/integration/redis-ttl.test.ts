// Every key the Redis tier writes has a TTL: a whole call through every store method of every adapter,
// then a SCAN of the prefix finds no key without one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisConcurrencySlots, RedisRateLimiter } from '../../src/adapters/redis/redis-admission.js';
import { keysUnder, keysWithoutTtl } from '../support/ttl-scan.js';
import { makeRedisBundle, type StateBundle } from '../support/state-subjects.js';
import { testConfig, testRedisUrl } from '../support/test-env.js';

describe('TTL on every key', () => {
  let bundle: { impl: StateBundle; cleanup: () => Promise<void> };
  beforeEach(async () => {
    bundle = await makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl(), WORKER_ID: 'w-ttl' }));
  });
  afterEach(async () => {
    await bundle.cleanup();
  });

  it('a whole call through the ports leaves no key without a TTL', async () => {
    const s = bundle.impl;
    const callId = 'ttl-call-1';
    const { wired } = s.redis!;
    await s.router.start(() => undefined);
    // admission
    const rate = new RedisRateLimiter({ scripts: wired.scripts, keys: wired.keys }, s.config.ttl);
    const slots = new RedisConcurrencySlots({ scripts: wired.scripts, keys: wired.keys, clock: { now: () => Date.now(), monotonic: () => 0 } }, s.config.ttl);
    expect((await rate.hit('incoming', 100)).admitted).toBe(true);
    expect(await slots.acquire('tenant-1', callId, 10)).toBe(true);
    // incoming call
    expect(await s.sessions.claim('incoming-call', 'inc-1', 'w-ttl')).toBe(true);
    await s.sessions.putAuthState(callId, { secret: 'x'.repeat(22), callerVerified: false, failedAttempts: 0 });
    await s.sessions.saveSession({ callId, phase: 'answering', callConnectionId: null, correlationId: null, serverCallId: null, from: 'a', to: 'b', startedAt: 1, ownerWorkerId: null, audioFormat: 'pcm16KMono', nextSeq: 1 });
    // callbacks before the media socket: held
    expect(await s.router.forward({ callId, id: 'e-0', type: 'CallConnected', data: {}, time: null })).toBe('held');
    expect(await s.sessions.claim('event', 'e-0', 'w-ttl')).toBe(true);
    // media connects: owner
    const lease = await s.affinity.acquire(callId, 'w-ttl');
    const midCall = await keysUnder(testRedisUrl(), s.config.appName);
    for (const part of [':owner', ':pending', ':slots']) expect(midCall.some((k) => k.endsWith(part))).toBe(true);
    expect(await keysWithoutTtl(testRedisUrl(), s.config.appName)).toEqual([]);
    expect(await s.router.takeHeld(callId)).toHaveLength(1);
    expect(await s.router.forward({ callId, id: 'e-1', type: 'PlayCompleted', data: {}, time: null })).toBe('forwarded');
    // turns
    await s.conversations.updateContext(callId, { caller: { name: 'Ada' }, step: 'greet' });
    for (let seq = 1; seq <= 6; seq++) {
      await s.conversations.appendTurn(callId, { seq, speaker: seq % 2 ? 'user' : 'assistant', text: `t${seq}`, at: seq });
      await s.conversations.getState(callId);
      await s.ttsCache.put(`hash-${seq}`, Buffer.from([seq, 1, 2, 3]));
      await s.ttsCache.get(`hash-${seq}`);
    }
    await s.conversations.updateContext(callId, { step: null });
    expect(await s.affinity.renewAll([lease])).toEqual([]);
    // end
    await s.sessions.putSummary(callId, { callId, outcome: 'completed', startedAt: 1, endedAt: 2, durationMs: 1, turnCount: 6, bargeIns: 0, archived: true });
    await s.sessions.putTranscript(callId, { version: 1, id: callId, callId, callConnectionId: null, correlationId: null, caller: 'a', callee: 'b', startedAt: 1, endedAt: 2, outcome: 'completed', turns: [], bargeIns: [], dtmf: [], counters: {}, archivedAt: 3 });
    await s.affinity.release(lease);
    await slots.release('tenant-1', callId);

    const written = await keysUnder(testRedisUrl(), s.config.appName);
    // conversation (context, history, meta), call (auth, session, summary, transcript, fence),
    // claims, tts, worker heartbeat, rate window: the scan really covers them.
    for (const part of [':context', ':history', ':meta', ':auth', ':session', ':summary', ':transcript', ':fence', ':claim', ':audio', ':heartbeat', ':window']) {
      expect(written.some((k) => k.endsWith(part))).toBe(true);
    }
    expect(await keysWithoutTtl(testRedisUrl(), s.config.appName)).toEqual([]);
  });
});
