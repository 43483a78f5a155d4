// BulkCreator with a recording container: creates asked for in one turn leave in one bulk request,
// bounded by operation count and bytes; each caller gets its own operation's status, or the request's error.
import type { Container, OperationInput } from '@azure/cosmos';
import { describe, expect, it } from 'vitest';
import { BulkCreator } from '../../src/adapters/cosmos/bulk-creator.js';

function recorder(answer: (ops: OperationInput[]) => Promise<{ statusCode: number }[]>) {
  const calls: OperationInput[][] = [];
  const container = {
    items: {
      bulk: (ops: OperationInput[]) => {
        calls.push(ops);
        return answer(ops);
      },
    },
  } as unknown as Container;
  return { container, calls };
}

const ok = (ops: OperationInput[]) => Promise.resolve(ops.map(() => ({ statusCode: 201 })));

describe('BulkCreator', () => {
  it('sends the creates of one turn in one request, each with its partition key', async () => {
    const { container, calls } = recorder(ok);
    const sizes: number[] = [];
    const bulk = new BulkCreator(container, { maxOps: 50, maxBytes: 1_000_000 }, (n) => sizes.push(n));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => bulk.create({ id: `c${i}`, callId: `c${i}` }, `c${i}`, 100)));
    expect(results).toEqual(Array(10).fill(201));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((o) => (o as { partitionKey: string }).partitionKey)).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
    expect(calls[0]!.every((o) => o.operationType === 'Create')).toBe(true);
    expect(sizes).toEqual([10]);
    // A later turn is a new request.
    await bulk.create({ id: 'late', callId: 'late' }, 'late', 100);
    expect(calls).toHaveLength(2);
  });

  it('splits at maxOps and at maxBytes', async () => {
    const { container, calls } = recorder(ok);
    const bulk = new BulkCreator(container, { maxOps: 4, maxBytes: 1000 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => bulk.create({ id: `a${i}` }, `a${i}`, 10)));
    expect(calls.map((c) => c.length)).toEqual([4, 4, 2]);
    calls.length = 0;
    await Promise.all(Array.from({ length: 5 }, (_, i) => bulk.create({ id: `b${i}` }, `b${i}`, 400)));
    expect(calls.map((c) => c.length)).toEqual([2, 2, 1]);
  });

  it('gives each caller the status of its own operation', async () => {
    const statuses = [201, 409, 429, 503, 400];
    const { container } = recorder((ops) => Promise.resolve(ops.map((_, i) => ({ statusCode: statuses[i] as number }))));
    const bulk = new BulkCreator(container);
    const results = await Promise.all(statuses.map((_, i) => bulk.create({ id: `d${i}` }, `d${i}`, 10)));
    expect(results).toEqual(statuses);
  });

  it('rejects every create of a request that failed as a whole with that error', async () => {
    const err = Object.assign(new Error('throttled'), { code: 429, retryAfterInMs: 700 });
    const { container } = recorder(() => Promise.reject(err));
    const bulk = new BulkCreator(container);
    const settled = await Promise.allSettled([1, 2, 3].map((i) => bulk.create({ id: `e${i}` }, `e${i}`, 10)));
    expect(settled.every((s) => s.status === 'rejected' && s.reason === err)).toBe(true);
  });
});
