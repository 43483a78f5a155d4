// Stored conversations carry a schema version: a worker refuses (typed error) data written by a newer
// schema instead of misreading it.
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeRedisBundle, type StateBundle } from '../support/state-subjects.js';
import { testConfig, testRedisUrl } from '../support/test-env.js';

describe('conversation schema version', () => {
  let bundle: { impl: StateBundle; cleanup: () => Promise<void> };
  beforeEach(async () => {
    bundle = await makeRedisBundle(testConfig({ STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl() }));
  });
  afterEach(async () => {
    await bundle.cleanup();
  });

  it('stores version 1 and refuses data of a newer version on read and on write', async () => {
    const { wired } = bundle.impl.redis!;
    const store = wired.redisConversations;
    await store.appendTurn('v', { seq: 1, speaker: 'user', text: 'hello', at: 1 });
    const r = new Redis(testRedisUrl());
    try {
      expect(await r.hget(wired.keys.conversationMeta('v'), 'v')).toBe('1');
      await r.hset(wired.keys.conversationMeta('v'), 'v', '2');
    } finally {
      r.disconnect();
    }
    await expect(store.getState('v')).rejects.toMatchObject({ code: 'VOICE_ERR_STATE_SCHEMA' });
    await expect(store.appendTurn('v', { seq: 2, speaker: 'user', text: 'x', at: 2 })).rejects.toMatchObject({ code: 'VOICE_ERR_STATE_SCHEMA' });
  });
});
