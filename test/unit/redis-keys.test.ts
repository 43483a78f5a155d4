import { describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { KEY_TTL, ttlFor } from '../../src/adapters/redis/ttl-policy.js';
import { hashSlot } from '../../src/adapters/redis/cluster-slots.js';
import { isVoiceError } from '../../src/domain/errors.js';
import { loadConfig } from '../../src/config.js';

const keys = new RedisKeys({ appName: 'rtvoice', appEnv: 'prod' });

describe('redis keys', () => {
  it('builds {app}:{env}:{type}:{{id}}:{component}', () => {
    expect(keys.conversationContext('441f1200')).toBe('rtvoice:prod:conversation:{441f1200}:context');
    expect(keys.callSession('441f1200')).toBe('rtvoice:prod:call:{441f1200}:session');
    expect(keys.claim('event', 'e-1')).toBe('rtvoice:prod:event:{e-1}:claim');
    expect(keys.workerChannel('w-7f3a')).toBe('rtvoice:prod:worker:{w-7f3a}:events');
    expect(keys.pattern).toBe('rtvoice:prod:*');
  });

  it('puts every key of one call in one cluster slot', () => {
    const id = '9d5c2a4e-1b1f-4a55-8f0b-1e2d3c4b5a69';
    const all = [keys.conversationContext(id), keys.conversationHistory(id), keys.conversationMeta(id), keys.callAuth(id), keys.callSession(id), keys.callSummary(id), keys.callTranscript(id), keys.callOwner(id), keys.callFence(id), keys.callPending(id)];
    expect(new Set(all.map(hashSlot)).size).toBe(1);
  });

  it('rejects ids that would break the hash tag', () => {
    for (const bad of ['a{b', 'a}b', '', 'a b', 'x'.repeat(257)]) {
      let err: unknown = null;
      try {
        keys.callSession(bad);
      } catch (e) {
        err = e;
      }
      expect(isVoiceError(err, 'INVALID_PAYLOAD')).toBe(true);
    }
  });

  it('has a TTL kind for every key the module builds', () => {
    const builders = Object.getOwnPropertyNames(RedisKeys.prototype).filter((n) => n !== 'constructor' && n !== 'pattern' && n !== 'workerChannel' && n !== 'consoleChannel');
    expect(builders.sort()).toEqual(Object.keys(KEY_TTL).sort());
    const cfg = loadConfig({ TTL_CONTEXT: '11', TTL_LEASE: '7' });
    expect(ttlFor(cfg.ttl, 'conversationContext')).toBe(11);
    expect(ttlFor(cfg.ttl, 'callOwner')).toBe(7);
    expect(ttlFor(cfg.ttl, 'callFence')).toBe(cfg.ttl.session);
  });
});

describe('cluster hash slots', () => {
  it('matches the Redis Cluster CRC16 and honours hash tags', () => {
    expect(hashSlot('123456789')).toBe(0x31c3 % 16384);
    expect(hashSlot('foo')).toBe(12182);
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('{user1000}.followers'));
    expect(hashSlot('a{}b')).toBe(hashSlot('a{}b'));
  });
});
