// Every key the Redis tier writes has a TTL: a whole call through every store method of every adapter,
// then a SCAN of the prefix finds no key without one. Once a call is archived its conversation keys
// may expire early (TTL_ARCHIVED), never later than they would have.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWholeCall } from '../support/whole-call.js';
import { keysUnder, keysWithoutTtl } from '../support/ttl-scan.js';
import { makeRedisBundle, type StateBundle } from '../support/state-subjects.js';
import { testConfig, testRedisUrl } from '../support/test-env.js';

describe('TTL on every key', () => {
  let bundle: { impl: StateBundle; cleanup: () => Promise<void> };
  beforeEach(async () => {
    bundle = await makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl(), WORKER_ID: 'w-ttl', TTL_ARCHIVED: '120' }));
  });
  afterEach(async () => {
    await bundle.cleanup();
  });

  it('a whole call through the ports leaves no key without a TTL', async () => {
    const s = bundle.impl;
    await runWholeCall(s, 'ttl-call-1', async (stage) => {
      const midCall = await keysUnder(testRedisUrl(), s.config.appName);
      const parts = stage === 'owner' ? [':owner', ':pending', ':slots'] : [':owner', ':context', ':history', ':meta', ':audio', ':auth', ':session', ':fence'];
      for (const part of parts) expect(midCall.some((k) => k.endsWith(part))).toBe(true);
      expect(await keysWithoutTtl(testRedisUrl(), s.config.appName)).toEqual([]);
    });
    const written = await keysUnder(testRedisUrl(), s.config.appName);
    // conversation (context, history, meta), call (auth, session, summary, transcript, fence),
    // claims, tts, worker heartbeat, rate window: the scan really covers them.
    for (const part of [':context', ':history', ':meta', ':auth', ':session', ':summary', ':transcript', ':fence', ':claim', ':audio', ':heartbeat', ':window']) {
      expect(written.some((k) => k.endsWith(part))).toBe(true);
    }
    expect(await keysWithoutTtl(testRedisUrl(), s.config.appName)).toEqual([]);
  });

  it("an archived call's summary shortens its conversation keys' TTL, and never lengthens one", async () => {
    const s = bundle.impl;
    const client = s.redis!.client;
    const keys = s.redis!.wired.keys;
    const ttlOf = (k: string) => client.ttl(k);
    const summary = { callId: 'x', outcome: 'completed' as const, startedAt: 1, endedAt: 2, durationMs: 1, turnCount: 1, bargeIns: 0, archived: true };

    await s.conversations.updateContext('ttl-arch-1', { plan: 'gold' });
    await s.conversations.appendTurn('ttl-arch-1', { seq: 1, speaker: 'user', text: 'hello', at: 1 });
    const convo = [keys.conversationContext('ttl-arch-1'), keys.conversationHistory('ttl-arch-1'), keys.conversationMeta('ttl-arch-1')];
    for (const k of convo) expect(await ttlOf(k)).toBeGreaterThan(1000); // 1800 s / 7200 s while live
    // Another call whose context was written with a TTL already below TTL_ARCHIVED keeps it.
    await s.conversations.updateContext('ttl-arch-2', { plan: 'basic' });
    await client.expire(keys.conversationContext('ttl-arch-2'), 30);

    await s.sessions.putSummary('ttl-arch-1', { ...summary, callId: 'ttl-arch-1' });
    await s.sessions.putSummary('ttl-arch-2', { ...summary, callId: 'ttl-arch-2' });

    for (const k of convo) {
      const left = await ttlOf(k);
      expect(left).toBeGreaterThan(100);
      expect(left).toBeLessThanOrEqual(120);
    }
    expect((await s.conversations.getState('ttl-arch-1')).history.map((t) => t.text)).toEqual(['hello']); // shortened, not deleted
    expect(await ttlOf(keys.conversationContext('ttl-arch-2'))).toBeLessThanOrEqual(30);
    expect(await client.exists(keys.conversationHistory('ttl-arch-2'))).toBe(0); // nothing created
    expect(await ttlOf(keys.callSummary('ttl-arch-1'))).toBeGreaterThan(604_000);
    expect(await s.sessions.getSummary('ttl-arch-1')).toEqual({ ...summary, callId: 'ttl-arch-1' });
    expect(await keysWithoutTtl(testRedisUrl(), s.config.appName)).toEqual([]);
  });
});
