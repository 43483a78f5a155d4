// A malformed pub/sub message is dropped, never delivered as an event.
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../src/adapters/redis/redis-event-router.js';

describe('forwarded event parsing', () => {
  it('accepts a well-formed envelope and rejects anything else', () => {
    const ok = { callId: 'c', id: 'e', type: 'CallConnected', data: { a: 1 }, time: null };
    expect(parseEnvelope(JSON.stringify(ok))).toEqual(ok);
    for (const bad of ['not json', '[]', 'null', JSON.stringify({ ...ok, callId: 1 }), JSON.stringify({ ...ok, data: [] }), JSON.stringify({ ...ok, time: 5 })]) {
      expect(parseEnvelope(bad)).toBeNull();
    }
  });
});
