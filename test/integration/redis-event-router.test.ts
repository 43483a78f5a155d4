// Two workers on one Redis: a callback forwarded by the non-owner reaches the owner over pub/sub; an
// event forwarded before any owner is held and handed to the owner that takes the call; an owner
// whose heartbeat is gone is not published to.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallbackEnvelope } from '../../src/domain/ports.js';
import { makeRedisBundle, type StateBundle } from '../support/state-subjects.js';
import { testConfig, testRedisUrl } from '../support/test-env.js';

const env = (callId: string, id: string): CallbackEnvelope => ({ callId, id, type: 'PlayCompleted', data: { operationContext: 'op-1' }, time: '2026-01-01T00:00:00Z' });

function waitFor<T>(list: T[], n: number, timeoutMs = 5000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (list.length >= n) return resolve(list);
      if (Date.now() > deadline) return reject(new Error(`expected ${n} deliveries, got ${list.length}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('event router between two workers', () => {
  let a: { impl: StateBundle; cleanup: () => Promise<void> };
  let b: { impl: StateBundle; cleanup: () => Promise<void> };
  const gotA: CallbackEnvelope[] = [];
  const gotB: CallbackEnvelope[] = [];

  beforeEach(async () => {
    gotA.length = 0;
    gotB.length = 0;
    const base = testConfig({ STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl() });
    const shared = { STATE_BACKEND: 'redis', REDIS_URL: testRedisUrl(), APP_NAME: base.appName };
    a = await makeRedisBundle(testConfig({ ...shared, WORKER_ID: 'w-a' }));
    b = await makeRedisBundle(testConfig({ ...shared, WORKER_ID: 'w-b' }));
    await a.impl.router.start((e) => gotA.push(e));
    await b.impl.router.start((e) => gotB.push(e));
  });
  afterEach(async () => {
    await b.cleanup();
    await a.cleanup();
  });

  it('forwards a callback from the non-owner to the owner', async () => {
    await a.impl.affinity.acquire('call-1', 'w-a');
    expect(await b.impl.router.forward(env('call-1', 'e1'))).toBe('forwarded');
    expect(await waitFor(gotA, 1)).toEqual([env('call-1', 'e1')]);
    expect(gotB).toEqual([]);
    expect(await a.impl.router.takeHeld('call-1')).toEqual([]);
  });

  it('holds events sent before any owner, and the owner takes them after acquiring', async () => {
    expect(await b.impl.router.forward(env('call-2', 'e1'))).toBe('held');
    expect(await b.impl.router.forward(env('call-2', 'e2'))).toBe('held');
    await a.impl.affinity.acquire('call-2', 'w-a');
    expect(await a.impl.router.takeHeld('call-2')).toEqual([env('call-2', 'e1'), env('call-2', 'e2')]);
    // Once owned, later events go straight to the owner.
    expect(await b.impl.router.forward(env('call-2', 'e3'))).toBe('forwarded');
    expect(await waitFor(gotA, 1)).toEqual([env('call-2', 'e3')]);
  });

  it('holds instead of publishing to an owner that is gone (heartbeat and subscription), for the next owner to take', async () => {
    await a.impl.affinity.acquire('call-3', 'w-a');
    // A replica that dies loses its subscriber connection with its heartbeat.
    await a.impl.redis!.wired.workers.stop();
    await a.impl.router.stop();
    expect(await b.impl.router.forward(env('call-3', 'e1'))).toBe('held');
    await b.impl.affinity.acquire('call-3', 'w-b');
    expect(await b.impl.router.takeHeld('call-3')).toEqual([env('call-3', 'e1')]);
    expect(gotA).toEqual([]);
  });

  it('publishes to an owner whose heartbeat key Redis lost (restarted empty) while its subscription is back: one server counts the receivers', async () => {
    await a.impl.affinity.acquire('call-4', 'w-a');
    await a.impl.redis!.client.del(a.impl.redis!.wired.keys.workerHeartbeat('w-a'));
    expect(await b.impl.router.forward(env('call-4', 'e1'))).toBe('forwarded');
    expect(await waitFor(gotA, 1)).toEqual([env('call-4', 'e1')]);
    expect(await a.impl.router.takeHeld('call-4')).toEqual([]);
  });
});
