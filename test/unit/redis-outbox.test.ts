// The resilient conversation store with a primary that can be switched off: writes are never
// rejected for an outage, they queue per call in order, bounded, and replay once the primary is back.
import { describe, expect, it } from 'vitest';
import { ResilientConversationStore } from '../../src/adapters/redis/resilient-conversation-store.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { voiceError } from '../../src/domain/errors.js';
import type { Turn } from '../../src/domain/conversation.js';
import type { AppendResult, ConversationStore } from '../../src/domain/ports.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';
import { loadConfig } from '../../src/config.js';

const cfg = loadConfig({});
const clock = { now: () => Date.now(), monotonic: () => 0 };
const turn = (seq: number): Turn => ({ seq, speaker: 'user', text: `t${seq}`, at: seq });

class SwitchablePrimary implements ConversationStore {
  up = true;
  readonly inner = new MemoryConversationStore({ clock }, { ttl: cfg.ttl, historyMaxTurns: 100 });
  readonly calls: string[] = [];
  fatal = false;
  #gate() {
    if (this.fatal) throw voiceError('STATE_SCHEMA', 'newer schema');
    if (!this.up) throw voiceError('BACKEND_UNAVAILABLE', 'down');
  }
  async getState(callId: string) {
    this.#gate();
    return this.inner.getState(callId);
  }
  async updateContext(callId: string, patch: Record<string, unknown>) {
    this.#gate();
    this.calls.push(`ctx:${Object.keys(patch).join(',')}`);
    return this.inner.updateContext(callId, patch);
  }
  async appendTurn(callId: string, t: Turn): Promise<AppendResult> {
    this.#gate();
    this.calls.push(`turn:${t.seq}`);
    return this.inner.appendTurn(callId, t);
  }
  async appendTurnAndRead(callId: string, t: Turn) {
    this.#gate();
    this.calls.push(`turn+read:${t.seq}`);
    return this.inner.appendTurnAndRead(callId, t);
  }
}

function make(outboxMax = 100) {
  const primary = new SwitchablePrimary();
  let reachable = true;
  const registry = createRegistry({ defaultMetrics: false });
  const store = new ResilientConversationStore(
    { primary, mirror: new MemoryConversationStore({ clock }, { ttl: cfg.ttl, historyMaxTurns: 100 }), isUp: () => reachable, registry },
    { outboxMax, replayIntervalMs: 10_000 },
    silentLogger(),
  );
  const setUp = (v: boolean) => {
    primary.up = v;
    reachable = v;
  };
  return { primary, store, registry, setUp };
}

describe('resilient conversation store', () => {
  it('queues writes while down, serves reads from memory, replays in order when back', async () => {
    const { primary, store, setUp } = make();
    await store.appendTurn('c', turn(1));
    setUp(false);
    expect(await store.appendTurn('c', turn(2))).toMatchObject({ stored: true, turnCount: 2 });
    await store.updateContext('c', { step: 'x' });
    expect(await store.appendTurn('c', turn(3))).toMatchObject({ stored: true, turnCount: 3 });
    expect((await store.getState('c')).history.map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(store.depth).toBe(3);
    expect(await store.readiness().check()).toBe('degraded');
    setUp(true);
    await store.replayNow();
    expect(store.depth).toBe(0);
    expect(primary.calls).toEqual(['turn:1', 'turn:2', 'ctx:step', 'turn:3']);
    expect((await primary.inner.getState('c')).history.map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(await store.readiness().check()).toBe('ok');
  });

  it('a write that fails mid-flight goes to the outbox, and later writes of that call queue behind it', async () => {
    const { primary, store, setUp } = make();
    primary.up = false; // the client still looks connected, the command fails
    await store.appendTurn('c', turn(1));
    primary.up = true;
    await store.appendTurn('c', turn(2));
    expect(primary.calls).toEqual([]);
    setUp(true);
    await store.replayNow();
    expect(primary.calls).toEqual(['turn:1', 'turn:2']);
  });

  it('bounds each call outbox, dropping the oldest and counting it', async () => {
    const { store, setUp, registry } = make(3);
    setUp(false);
    for (let s = 1; s <= 5; s++) await store.appendTurn('c', turn(s));
    expect(store.depth).toBe(3);
    const dropped = await registry.getSingleMetric('voice_redis_outbox_dropped_total')?.get();
    expect(dropped?.values[0]?.value).toBe(2);
  });

  it('appendTurnAndRead: one primary call while up (its state), queued with the mirror\'s state while down', async () => {
    const { primary, store, setUp } = make();
    await primary.inner.updateContext('c', { fromRedis: 1 }); // written by another replica: only the primary has it
    const up = await store.appendTurnAndRead('c', turn(1));
    expect(primary.calls).toEqual(['turn+read:1']);
    expect(up.state.context).toEqual({ fromRedis: 1 });
    expect(up.state.history.map((t) => t.seq)).toEqual([1]);
    setUp(false);
    const down = await store.appendTurnAndRead('c', turn(2));
    expect(down).toMatchObject({ stored: true, turnCount: 2 });
    expect(down.state.history.map((t) => t.seq)).toEqual([1, 2]);
    expect(store.depth).toBe(1);
    primary.up = true; // reachable again, but the call still has a write waiting: it queues behind it
    await store.appendTurnAndRead('c', turn(3));
    expect(primary.calls).toEqual(['turn+read:1']);
    setUp(true);
    await store.replayNow();
    expect(primary.calls).toEqual(['turn+read:1', 'turn:2', 'turn:3']);
    expect((await primary.inner.getState('c')).history.map((t) => t.seq)).toEqual([1, 2, 3]);
  });

  it('does not hide errors that are not an outage', async () => {
    const { primary, store } = make();
    primary.fatal = true;
    await expect(store.appendTurn('c', turn(1))).rejects.toMatchObject({ code: 'VOICE_ERR_STATE_SCHEMA' });
    await expect(store.appendTurnAndRead('c', turn(1))).rejects.toMatchObject({ code: 'VOICE_ERR_STATE_SCHEMA' });
    expect(store.depth).toBe(0);
  });
  it('forget (the call left this replica) drops its in-process copy; with writes still waiting, only once they are replayed', async () => {
    const { primary, store, setUp } = make();
    await store.appendTurn('gone', turn(1));
    await store.updateContext('gone', { step: 'x' });
    store.forget('gone');
    expect(await store.held('gone')).toMatchObject({ history: [], context: {} });
    // Redis keeps the conversation (its own TTL): only this replica's memory let go.
    expect((await store.getState('gone')).history.map((t) => t.seq)).toEqual([1]);

    await store.appendTurn('late', turn(1));
    setUp(false);
    await store.appendTurn('late', turn(2));
    store.forget('late');
    // Reads fall back to the mirror while writes wait: it must still answer with both turns.
    expect((await store.getState('late')).history.map((t) => t.seq)).toEqual([1, 2]);
    setUp(true);
    await store.replayNow();
    expect(primary.calls).toEqual(['turn:1', 'ctx:step', 'turn:1', 'turn:2']);
    expect((await store.held('late')).history).toEqual([]);
  });
});
