// The state contract: what every backend (memory, Redis, Redis Cluster) must do behind the ports.
import { expect, it } from 'vitest';
import type { CallbackEnvelope } from '../../src/domain/ports.js';
import type { Turn } from '../../src/domain/conversation.js';
import type { CallSessionSnapshot } from '../../src/domain/call-records.js';
import { isVoiceError } from '../../src/domain/errors.js';
import type { StateBundle } from './state-subjects.js';

const turn = (seq: number, text = `turn ${seq}`): Turn => ({ seq, speaker: seq % 2 ? 'user' : 'assistant', text, at: 1_700_000_000_000 + seq, kind: 'speech', confidence: 0.9 });
const env = (callId: string, n: number): CallbackEnvelope => ({ callId, id: `ev-${n}`, type: 'CallConnected', data: { n, nested: { ok: true } }, time: null });
const snapshot = (callId: string): CallSessionSnapshot => ({
  callId,
  phase: 'connected',
  callConnectionId: 'conn-1',
  correlationId: 'corr-1',
  serverCallId: null,
  from: '+1425***0123',
  to: '+1425***9999',
  startedAt: 1_700_000_000_000,
  ownerWorkerId: 'w-1',
  audioFormat: 'pcm16KMono',
  nextSeq: 3,
});

export function stateContract(get: () => StateBundle): void {
  conversationValidationContract(get);
  it('conversation: empty state for an unknown call', async () => {
    const s = await get().conversations.getState('c-empty');
    expect(s).toEqual({ callId: 'c-empty', schemaVersion: 1, context: {}, history: [], turnCount: 0 });
  });

  it('conversation: turns are stored once per seq and read back in seq order', async () => {
    const { conversations } = get();
    expect(await conversations.appendTurn('c1', turn(1))).toEqual({ stored: true, turnCount: 1, seq: 1 });
    expect(await conversations.appendTurn('c1', turn(3))).toEqual({ stored: true, turnCount: 2, seq: 3 });
    expect(await conversations.appendTurn('c1', turn(2))).toEqual({ stored: true, turnCount: 3, seq: 2 });
    // The same turn again (an outbox replay, a retried write) is stored once.
    expect(await conversations.appendTurn('c1', turn(2))).toMatchObject({ stored: false, turnCount: 3 });
    const s = await conversations.getState('c1');
    expect(s.history.map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(s.history[1]).toEqual(turn(2));
    expect(s.turnCount).toBe(3);
    expect((await conversations.getState('c2')).history).toEqual([]);
  });

  it('conversation: history is capped, oldest trimmed, count kept, trimmed seqs stay duplicates', async () => {
    const { conversations, config } = get();
    const max = config.state.historyMaxTurns;
    for (let seq = 1; seq <= max + 3; seq++) await conversations.appendTurn('cap', turn(seq));
    const s = await conversations.getState('cap');
    expect(s.history.map((t) => t.seq)).toEqual(Array.from({ length: max }, (_, i) => i + 4));
    expect(s.turnCount).toBe(max + 3);
    expect(await conversations.appendTurn('cap', turn(1))).toMatchObject({ stored: false, turnCount: max + 3 });
  });

  it('conversation: context patches merge, null deletes a field, values keep their JSON shape', async () => {
    const { conversations } = get();
    await conversations.updateContext('ctx', { name: 'Ada', slots: { date: '2026-01-02', seats: 2 }, verified: false });
    await conversations.updateContext('ctx', { verified: true, name: null, tags: ['a', 'b'] });
    const s = await conversations.getState('ctx');
    expect(s.context).toEqual({ slots: { date: '2026-01-02', seats: 2 }, verified: true, tags: ['a', 'b'] });
    expect((await conversations.getState('other')).context).toEqual({});
  });

  it('sessions: claims are first-wins until released, per kind', async () => {
    const { sessions } = get();
    expect(await sessions.claim('event', 'e1', 'w-1')).toBe(true);
    expect(await sessions.claim('event', 'e1', 'w-2')).toBe(false);
    expect(await sessions.claim('incoming-call', 'e1', 'w-2')).toBe(true);
    await sessions.releaseClaim('event', 'e1');
    expect(await sessions.claim('event', 'e1', 'w-2')).toBe(true);
  });

  it('sessions: auth state, snapshot, summary and transcript round-trip; null when absent', async () => {
    const { sessions } = get();
    expect(await sessions.getAuthState('s1')).toBeNull();
    expect(await sessions.loadSession('s1')).toBeNull();
    expect(await sessions.getSummary('s1')).toBeNull();
    expect(await sessions.getTranscript('s1')).toBeNull();
    const auth = { secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', callerVerified: false, failedAttempts: 1 };
    await sessions.putAuthState('s1', auth);
    await sessions.saveSession(snapshot('s1'));
    const summary = { callId: 's1', outcome: 'completed' as const, startedAt: 1, endedAt: 2, durationMs: 1, turnCount: 4, bargeIns: 1, archived: false };
    await sessions.putSummary('s1', summary);
    const doc = { version: 1, id: 's1', callId: 's1', callConnectionId: null, correlationId: null, caller: 'a', callee: 'b', startedAt: 1, endedAt: 2, outcome: 'completed' as const, turns: [turn(1)], bargeIns: [], dtmf: [], counters: { x: 1 }, archivedAt: 3 };
    await sessions.putTranscript('s1', doc);
    expect(await sessions.getAuthState('s1')).toEqual(auth);
    expect(await sessions.loadSession('s1')).toEqual(snapshot('s1'));
    expect(await sessions.getSummary('s1')).toEqual(summary);
    expect(await sessions.getTranscript('s1')).toEqual(doc);
    expect(await sessions.getAuthState('s2')).toBeNull();
  });

  it('tts cache: binary audio round-trips as a Uint8Array', async () => {
    const { ttsCache } = get();
    expect(await ttsCache.get('h1')).toBeNull();
    const audio = new Uint8Array(4096);
    for (let i = 0; i < audio.length; i++) audio[i] = (i * 7) & 0xff;
    await ttsCache.put('h1', Buffer.from(audio));
    const back = await ttsCache.get('h1');
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(audio))).toBe(true);
  });

  it('tts cache: getMany answers several keys at once, in order, null for the absent ones', async () => {
    const { ttsCache } = get();
    expect(await ttsCache.getMany([])).toEqual([]);
    const a = new Uint8Array([1, 2, 3, 4]);
    const b = new Uint8Array(2048).fill(9);
    await ttsCache.put('many-a', a);
    await ttsCache.put('many-b', b);
    // Keys with different hash tags: in a Cluster they live on different nodes.
    const keys = ['many-b', 'many-x', 'many-a', ...Array.from({ length: 20 }, (_, i) => `many-absent-${i}`)];
    const got = await ttsCache.getMany(keys);
    expect(got).toHaveLength(keys.length);
    expect(Buffer.from(got[0] as Uint8Array).equals(Buffer.from(b))).toBe(true);
    expect(got[1]).toBeNull();
    expect(Buffer.from(got[2] as Uint8Array).equals(Buffer.from(a))).toBe(true);
    expect(got.slice(3).every((g) => g === null)).toBe(true);
  });

  it('affinity: fences increase, renewals keep the current owner, a stale owner cannot release', async () => {
    const { affinity } = get();
    expect(await affinity.ownerOf('a1')).toBeNull();
    const first = await affinity.acquire('a1', 'w-1');
    expect(await affinity.ownerOf('a1')).toBe('w-1');
    const second = await affinity.acquire('a1', 'w-2');
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await affinity.ownerOf('a1')).toBe('w-2');
    expect(await affinity.renewAll([first, second])).toEqual({ lost: ['a1'], reasserted: [] });
    const err = await affinity.release(first).then(() => null, (e: unknown) => e);
    expect(isVoiceError(err, 'STALE_FENCE')).toBe(true);
    expect(await affinity.ownerOf('a1')).toBe('w-2');
    await affinity.release(second);
    expect(await affinity.ownerOf('a1')).toBeNull();
  });

  it('affinity: renewAll covers many calls in one call and reports only the lost ones', async () => {
    const { affinity } = get();
    const leases = await Promise.all(Array.from({ length: 40 }, (_, i) => affinity.acquire(`many-${i}`, 'w-1')));
    await affinity.acquire('many-7', 'w-2');
    expect(await affinity.renewAll(leases)).toEqual({ lost: ['many-7'], reasserted: [] });
    expect(await affinity.renewAll([])).toEqual({ lost: [], reasserted: [] });
  });

  it('affinity: an unrenewed lease expires, and the next owner still gets a higher fence', async () => {
    const { affinity, config } = get();
    const l = await affinity.acquire('exp', 'w-1');
    await get().pass(config.ttl.lease);
    expect(await affinity.ownerOf('exp')).toBeNull();
    expect((await affinity.acquire('exp', 'w-2')).fence).toBeGreaterThan(l.fence);
    // A newer fence was issued: the old holder's renewal means "lost", not "take it back".
    expect(await affinity.renewAll([l])).toEqual({ lost: ['exp'], reasserted: [] });
  });

  it('affinity: a lease gone without a newer fence is re-asserted by its holder under the same fence', async () => {
    const { affinity, config } = get();
    const l = await affinity.acquire('gone', 'w-1');
    await get().pass(config.ttl.lease);
    expect(await affinity.ownerOf('gone')).toBeNull();
    expect(await affinity.renewAll([l])).toEqual({ lost: [], reasserted: ['gone'] });
    expect(await affinity.ownerOf('gone')).toBe('w-1');
    expect(await affinity.renewAll([l])).toEqual({ lost: [], reasserted: [] });
    // The next owner still gets a higher fence, and the old holder then counts it lost.
    const next = await affinity.acquire('gone', 'w-2');
    expect(next.fence).toBeGreaterThan(l.fence);
    expect(await affinity.renewAll([l])).toEqual({ lost: ['gone'], reasserted: [] });
  });

  it('conversation: a different turn under a seq already stored goes after the highest one; a replay is stored once', async () => {
    const { conversations } = get();
    for (let seq = 1; seq <= 3; seq++) await conversations.appendTurn('reseq', { seq, speaker: 'user', text: `t${seq}`, at: seq });
    // A writer resumed from a stale snapshot sends seq 2 again, with new content.
    const moved = await conversations.appendTurn('reseq', { seq: 2, speaker: 'user', text: 'after resume', at: 10 });
    expect(moved).toMatchObject({ stored: true, turnCount: 4, seq: 4 });
    const replay = await conversations.appendTurn('reseq', { seq: 3, speaker: 'user', text: 't3', at: 3 });
    expect(replay).toMatchObject({ stored: false, turnCount: 4 });
    const state = await conversations.getState('reseq');
    expect(state.history.map((t) => [t.seq, t.text])).toEqual([[1, 't1'], [2, 't2'], [3, 't3'], [4, 'after resume']]);
  });

  it('conversation: appendTurnAndRead stores like appendTurn and returns the state after the append (one op)', async () => {
    const { conversations } = get();
    await conversations.updateContext('ar', { lastIntent: 'hours' });
    await conversations.appendTurn('ar', turn(1));
    const r = await conversations.appendTurnAndRead('ar', turn(2));
    expect(r).toMatchObject({ stored: true, turnCount: 2, seq: 2 });
    expect(r.state).toEqual(await conversations.getState('ar'));
    expect(r.state.context).toEqual({ lastIntent: 'hours' });
    expect(r.state.history).toEqual([turn(1), turn(2)]);
    // The seq rules of appendTurn hold: a replay is stored once, another turn under a taken seq goes after the highest.
    expect(await conversations.appendTurnAndRead('ar', turn(2))).toMatchObject({ stored: false, turnCount: 2 });
    const moved = await conversations.appendTurnAndRead('ar', turn(1, 'resumed from a stale snapshot'));
    expect(moved).toMatchObject({ stored: true, turnCount: 3, seq: 3 });
    expect(moved.state.history.map((t) => [t.seq, t.text])).toEqual([[1, 'turn 1'], [2, 'turn 2'], [3, 'resumed from a stale snapshot']]);
    const fresh = await conversations.appendTurnAndRead('ar-new', turn(1));
    expect(fresh.state).toEqual({ callId: 'ar-new', schemaVersion: 1, context: {}, history: [turn(1)], turnCount: 1 });
  });

  it('router: events for a call without an owner are held, oldest first, and taken once', async () => {
    const { router } = get();
    expect(await router.forward(env('r1', 1))).toBe('held');
    expect(await router.forward(env('r1', 2))).toBe('held');
    expect(await router.forward(env('r2', 3))).toBe('held');
    expect(await router.takeHeld('r1')).toEqual([env('r1', 1), env('r1', 2)]);
    expect(await router.takeHeld('r1')).toEqual([]);
    expect(await router.takeHeld('r2')).toEqual([env('r2', 3)]);
  });

  it('router: held events are bounded per call (newest kept)', async () => {
    const { router } = get();
    for (let i = 0; i < 70; i++) await router.forward(env('bounded', i));
    const held = await router.takeHeld('bounded');
    expect(held).toHaveLength(64);
    expect(held[0]?.id).toBe('ev-6');
    expect(held[63]?.id).toBe('ev-69');
  });
}

export function conversationValidationContract(get: () => StateBundle): void {
  it('conversation: a turn without a positive integer seq is refused, nothing stored', async () => {
    const { conversations } = get();
    for (const seq of [0, -1, 1.5, Number.NaN]) {
      await expect(conversations.appendTurn('bad', turn(seq))).rejects.toMatchObject({ code: 'VOICE_ERR_INVALID_PAYLOAD' });
    }
    expect((await conversations.getState('bad')).turnCount).toBe(0);
  });
}
