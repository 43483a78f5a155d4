import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { buildArchiveJob } from '../../src/domain/archive/job-builder.js';
import { DEFAULT_MESSAGE_LIMITS } from '../../src/domain/archive/message-plan.js';
import { emptyConversation } from '../../src/domain/conversation.js';
import { contentHash, toDocument } from '../../src/adapters/cosmos/cosmos-archive-store.js';
import { MemoryClaimStore } from '../../src/adapters/cosmos/cosmos-claim-store.js';
import { encodeJob, packJob, unpackJob } from '../../src/adapters/servicebus/job-codec.js';
import { ThrottleGate } from '../../src/adapters/servicebus/archive-processor.js';
import { SettleBatcher } from '../../src/adapters/servicebus/settle-batcher.js';
import { LockKeeper, renewAt } from '../../src/adapters/servicebus/lock-keeper.js';

const startedAt = 1_700_000_000_000;
const job = (text: string, n = 3) =>
  buildArchiveJob({
    call: { callId: 'call-7', from: '4:+1425', to: '4:+1426', startedAt, callConnectionId: null, correlationId: 'corr' },
    conversation: {
      ...emptyConversation('call-7'),
      history: Array.from({ length: n }, (_, k) => ({ seq: k + 1, speaker: k % 2 ? ('assistant' as const) : ('user' as const), text: `${text} ${k} ${0.1 + k / 3}`, at: startedAt + k * 1000.5 })),
      turnCount: n,
    },
    outcome: 'completed',
    endedAt: startedAt + 60_000,
  });

describe('archive document content hash', () => {
  it('is the same whether taken from the job or from the JSON it travelled as', async () => {
    const limits = { ...DEFAULT_MESSAGE_LIMITS, compressAtBytes: 512 };
    for (const j of [job('plain'), job('ünïcödé — "quoted" \\ \u2028 emoji 🎧'), job('long '.repeat(200), 40)]) {
      const packed = await packJob(j.callId, encodeJob(j), limits, new MemoryClaimStore());
      const unpacked = await unpackJob(packed.body, packed.props, null);
      if (!unpacked.ok) throw new Error(unpacked.reason);
      expect(toDocument(unpacked.value as typeof j, 1, unpacked.json).contentHash).toBe(contentHash(j));
    }
  });

  it('differs when the content differs', async () => {
    const a = job('one');
    const b = job('two');
    expect(toDocument(b, 1, encodeJob(b)).contentHash).not.toBe(toDocument(a, 1, encodeJob(a)).contentHash);
  });
});

describe('settle batcher', () => {
  it('settles what is due in one turn together, in queue order, and reports each outcome', async () => {
    const batcher = new SettleBatcher<number>((a, b) => a - b);
    const order: number[][] = [];
    const turn: number[] = [];
    const settle = (n: number) => () => {
      if (turn.length === 0) setImmediate(() => order.push(turn.splice(0)));
      turn.push(n);
      return n === 4 ? Promise.reject(new Error('lock lost')) : Promise.resolve();
    };
    const first = [5, 3, 4, 1].map((n) => batcher.settle(n, settle(n)).then(() => 'ok', (e: Error) => e.message));
    expect(turn).toEqual([]); // nothing before the turn ends
    expect(await Promise.all(first)).toEqual(['ok', 'ok', 'lock lost', 'ok']);
    await batcher.settle(9, settle(9));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([[1, 3, 4, 5], [9]]);
  });

  it('reports a settle function that throws instead of returning a promise', async () => {
    const batcher = new SettleBatcher<number>((a, b) => a - b);
    await expect(
      batcher.settle(1, () => {
        throw new Error('receiver closed');
      }),
    ).rejects.toThrow('receiver closed');
  });
});

describe('throttle gate', () => {
  it('holds every waiter until the deadline on one listener of the stop signal', async () => {
    const stop = new AbortController();
    const gate = new ThrottleGate(stop.signal);
    gate.block(80);
    const started = Date.now();
    const waiters = Array.from({ length: 50 }, () => gate.wait().then(() => Date.now() - started));
    await new Promise((r) => setTimeout(r, 10));
    expect(getEventListeners(stop.signal, 'abort').length).toBe(1);
    for (const waited of await Promise.all(waiters)) expect(waited).toBeGreaterThanOrEqual(75);
    expect(getEventListeners(stop.signal, 'abort').length).toBe(0);
  });

  it('waits out a deadline extended while it waits, and lets everyone go when stopped', async () => {
    const stop = new AbortController();
    const gate = new ThrottleGate(stop.signal);
    gate.block(30);
    const w = gate.wait();
    setTimeout(() => gate.block(10_000), 10);
    let done = false;
    void w.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 60));
    expect(done).toBe(false);
    stop.abort();
    await w;
    expect(gate.blockedForMs).toBeGreaterThan(0);
    expect(getEventListeners(stop.signal, 'abort').length).toBe(0);
  });
});

describe('lock keeper', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const LOCK_MS = 100;
  const msg = () => ({ lockedUntilUtc: new Date(Date.now() + LOCK_MS) });

  it('renews what is held before its lock runs out, until released', async () => {
    const renewed: object[] = [];
    const keeper = new LockKeeper<{ lockedUntilUtc: Date }>(
      {
        renew: async (m) => {
          renewed.push(m);
          m.lockedUntilUtc = new Date(Date.now() + LOCK_MS);
        },
        onError: () => undefined,
      },
      60_000,
    );
    const held = msg();
    const quick = msg();
    keeper.hold(held);
    keeper.hold(quick);
    keeper.release(quick); // settled at once: never renewed
    await sleep(330);
    const n = renewed.length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(renewed.every((m) => m === held)).toBe(true);
    expect(held.lockedUntilUtc.getTime()).toBeGreaterThan(Date.now());
    keeper.release(held);
    await sleep(150);
    expect(renewed.length).toBe(n);
    keeper.stop();
  });

  it('stops renewing after the maximum hold, and after a failed renewal', async () => {
    const renewed: string[] = [];
    const failed: string[] = [];
    const keeper = new LockKeeper<{ id: string; lockedUntilUtc: Date }>(
      {
        renew: async (m) => {
          renewed.push(m.id);
          if (m.id === 'lost') throw new Error('lock lost');
          m.lockedUntilUtc = new Date(Date.now() + LOCK_MS);
        },
        onError: (_err, m) => failed.push(m.id),
      },
      120,
    );
    keeper.hold({ id: 'long', ...msg() });
    keeper.hold({ id: 'lost', ...msg() });
    await sleep(400);
    expect(failed).toEqual(['lost']);
    expect(renewed.filter((id) => id === 'lost')).toHaveLength(1);
    expect(renewed.filter((id) => id === 'long').length).toBeLessThanOrEqual(3);
    expect(keeper.size).toBe(0);
    keeper.stop();
  });

  it('renews when half the lock is left, at most 10 s early, at once when it has run out', () => {
    expect(renewAt(60_000, 0)).toBe(50_000);
    expect(renewAt(5_000, 0)).toBe(2_500);
    expect(renewAt(100, 0)).toBe(50);
    expect(renewAt(1_000, 2_000)).toBe(2_000);
  });
});
