// CosmosArchiveStore's bulk path with a recording container: a per-operation 429 is redone as a
// single create (whose error carries the retry-after) and pauses bulk creates; a 400 does not pause.
import type { Container, OperationInput } from '@azure/cosmos';
import { describe, expect, it } from 'vitest';
import { CosmosArchiveStore } from '../../src/adapters/cosmos/cosmos-archive-store.js';
import type { TranscriptDocument } from '../../src/domain/archive-job.js';

function fakeContainer(bulkStatus: () => number, createError: () => unknown) {
  const calls = { bulk: 0, create: 0 };
  const container = {
    items: {
      bulk: (ops: OperationInput[]) => {
        calls.bulk++;
        return Promise.resolve(ops.map(() => ({ statusCode: bulkStatus() })));
      },
      create: () => {
        calls.create++;
        const e = createError();
        return e ? Promise.reject(e) : Promise.resolve({});
      },
    },
  } as unknown as Container;
  return { container, calls };
}

const doc = (id: string) => ({ id, callId: id, caller: '4:+14255550100', contentHash: 'h' }) as unknown as TranscriptDocument;

describe('CosmosArchiveStore bulk path', () => {
  it('redoes a throttled operation singly (its error carries the retry-after) and pauses bulk', async () => {
    const throttled = Object.assign(new Error('Request rate is large'), { code: 429, retryAfterInMs: 800 });
    let status = 429;
    let fail: unknown = throttled;
    const { container, calls } = fakeContainer(() => status, () => fail);
    let now = 0;
    const pauses: number[] = [];
    const store = new CosmosArchiveStore(container, { now: () => now, onBulkPaused: (_e, ms) => pauses.push(ms) });
    const settled = await Promise.allSettled([store.write(doc('a'), 100), store.write(doc('b'), 100)]);
    expect(settled.map((s) => (s.status === 'rejected' ? s.reason : null))).toEqual([throttled, throttled]);
    expect(calls).toEqual({ bulk: 1, create: 2 });
    expect(pauses).toEqual([30_000]);
    // Paused: the retry goes singly.
    fail = null;
    expect(await store.write(doc('a'), 100)).toBe('created');
    expect(calls).toEqual({ bulk: 1, create: 3 });
    // After the cool-down, bulk again.
    now += 30_000;
    status = 201;
    expect(await store.write(doc('c'), 100)).toBe('created');
    expect(calls).toEqual({ bulk: 2, create: 3 });
  });

  it('an operation refused for its own content (400) is redone singly without pausing bulk', async () => {
    const bad = Object.assign(new Error('bad request'), { code: 400 });
    const { container, calls } = fakeContainer(() => 400, () => bad);
    const pauses: number[] = [];
    const store = new CosmosArchiveStore(container, { onBulkPaused: (_e, ms) => pauses.push(ms) });
    await expect(store.write(doc('x'), 100)).rejects.toBe(bad);
    await expect(store.write(doc('y'), 100)).rejects.toBe(bad);
    expect(calls).toEqual({ bulk: 2, create: 2 });
    expect(pauses).toEqual([]);
  });
});
