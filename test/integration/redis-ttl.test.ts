// Every key the Redis tier writes has a TTL: a whole call through every store method of every adapter,
// then a SCAN of the prefix finds no key without one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWholeCall } from '../support/whole-call.js';
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
    await runWholeCall(s, 'ttl-call-1', async () => {
      const midCall = await keysUnder(testRedisUrl(), s.config.appName);
      for (const part of [':owner', ':pending', ':slots']) expect(midCall.some((k) => k.endsWith(part))).toBe(true);
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
});
