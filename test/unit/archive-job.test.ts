import { describe, expect, it } from 'vitest';
import { buildArchiveJob, trackCallForArchive } from '../../src/domain/archive/job-builder.js';
import { validateArchiveJob } from '../../src/domain/archive/job-validation.js';
import { needsClaimCheck, shouldCompress, throttleDelayMs, DEFAULT_MESSAGE_LIMITS } from '../../src/domain/archive/message-plan.js';
import { createArchiveFinalizer } from '../../src/domain/archive/archive-finalizer.js';
import { LiveCall } from '../../src/domain/live-call.js';
import { emptyConversation, type ConversationState, type Turn } from '../../src/domain/conversation.js';
import { MemoryArchiveQueue } from '../../src/adapters/memory/memory-archive-queue.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { silentLogger } from '../../src/logger.js';
import type { ConversationStore } from '../../src/domain/ports.js';

const clock = { now: () => 1_700_000_100_000, monotonic: () => 0 };
const mkCall = () =>
  new LiveCall({ callId: 'call-1', from: '4:+1425', to: '4:+1426', correlationId: 'corr', startedAt: 1_700_000_000_000, log: silentLogger() });

const turns: Turn[] = [
  { seq: 2, speaker: 'assistant', text: 'Your bal', at: 1_700_000_002_000, interrupted: true, playedMs: 700 },
  { seq: 1, speaker: 'user', text: 'balance', at: 1_700_000_001_000, kind: 'speech', confidence: 0.9 },
  { seq: 3, speaker: 'user', text: '12#', at: 1_700_000_003_000, kind: 'dtmf' },
];
const state: ConversationState = { ...emptyConversation('call-1'), history: turns, turnCount: 3 };

describe('archive job builder', () => {
  it('orders turns and derives barge-ins, DTMF and counters from the conversation', () => {
    const job = buildArchiveJob({ call: mkCall(), conversation: state, outcome: 'completed', endedAt: clock.now() });
    expect(job.turns.map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(job.bargeIns).toEqual([{ at: 1_700_000_002_700, turnSeq: 2, playedMs: 700 }]);
    // A legacy turn with clear digits is masked in the job; its marker carries the mask and a count.
    expect(job.turns[2]?.text).toBe('[dtmf **]');
    expect(job.dtmf).toEqual([{ at: 1_700_000_003_000, tone: '[dtmf **]', count: 2 }]);
    expect(job.counters).toMatchObject({ turns: 3, userTurns: 2, assistantTurns: 1, bargeIns: 1, dtmfInputs: 1, dtmfTones: 2, durationMs: 100_000 });
    expect(job.caller).toBe('4:+1425');
    expect(validateArchiveJob(JSON.parse(JSON.stringify(job)))).toEqual({ ok: true, job });
  });

  it('prefers markers recorded live on the call', () => {
    const call = mkCall();
    trackCallForArchive(call);
    call.nextSeq = 5;
    call.events.emit('bargeIn', { at: 10, utteranceId: 'u', playedMs: 120, cause: 'vad' });
    call.events.emit('dtmf', { tone: '9', at: 11 });
    const job = buildArchiveJob({ call, conversation: state, outcome: 'completed', endedAt: clock.now(), markers: trackCallForArchive(call) });
    expect(job.bargeIns).toEqual([{ at: 10, turnSeq: 4, playedMs: 120 }]);
    expect(job.dtmf).toEqual([{ at: 11, tone: '[dtmf *]', count: 1 }]);
  });
});

describe('archive job validation', () => {
  const good = buildArchiveJob({ call: mkCall(), conversation: state, outcome: 'completed', endedAt: clock.now() });
  it.each([
    ['unknown version', { ...good, version: 2 }, 'unknown job version 2'],
    ['missing callId', { ...good, callId: '' }, 'callId invalid'],
    ['bad outcome', { ...good, outcome: 'exploded' }, 'outcome invalid'],
    ['end before start', { ...good, endedAt: 1 }, 'start/end invalid'],
    ['bad turn', { ...good, turns: [{ seq: 1 }] }, 'turn invalid'],
    ['not an object', 'x', 'job is not an object'],
  ])('rejects %s', (_n, job, reason) => {
    const v = validateArchiveJob(job);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toContain(reason);
  });
});

describe('message plan', () => {
  it('compresses large bodies and claim-checks what still does not fit', () => {
    expect(shouldCompress(1000, DEFAULT_MESSAGE_LIMITS)).toBe(false);
    expect(shouldCompress(100_000, DEFAULT_MESSAGE_LIMITS)).toBe(true);
    expect(needsClaimCheck(200_000, DEFAULT_MESSAGE_LIMITS)).toBe(false);
    expect(needsClaimCheck(250_000, DEFAULT_MESSAGE_LIMITS)).toBe(true);
  });
  it('honours the server retry-after within bounds, backs off without one', () => {
    expect(throttleDelayMs(1200, 1)).toBe(1200);
    expect(throttleDelayMs(5, 1)).toBe(50);
    expect(throttleDelayMs(10 ** 9, 1)).toBe(30_000);
    expect(throttleDelayMs(undefined, 1)).toBe(100);
    expect(throttleDelayMs(undefined, 3)).toBe(400);
  });
});

describe('archive finalizer', () => {
  it('builds the job from the conversation store and enqueues it', async () => {
    const queue = new MemoryArchiveQueue();
    const conversations = new MemoryConversationStore({ clock }, { ttl: { context: 60, history: 60 }, historyMaxTurns: 100 });
    for (const t of turns) await conversations.appendTurn('call-1', t);
    const results: string[] = [];
    await createArchiveFinalizer({ queue, conversations, clock, onResult: (r) => results.push(r) })(mkCall(), 'agent-hangup');
    expect(queue.jobs).toHaveLength(1);
    expect(queue.jobs[0]).toMatchObject({ callId: 'call-1', outcome: 'agent-hangup', endedAt: clock.now() });
    expect(queue.jobs[0]?.turns).toHaveLength(3);
    expect(results).toEqual(['enqueued']);
  });

  it('never throws into the call path', async () => {
    const failing: ConversationStore = {
      getState: async () => {
        throw new Error('redis down');
      },
      updateContext: async () => undefined,
      appendTurn: async () => ({ stored: true, turnCount: 0 }),
      appendTurnAndRead: async () => {
        throw new Error('redis down');
      },
    };
    const results: string[] = [];
    const queue = { enqueue: async () => Promise.reject(new Error('disk full')) };
    await expect(createArchiveFinalizer({ queue, conversations: failing, clock, onResult: (r) => results.push(r) })(mkCall(), 'failed')).resolves.toBeUndefined();
    expect(results).toEqual(['failed']);
  });
});
