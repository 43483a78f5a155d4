// In-process ConversationStore with the same semantics as the Redis one: idempotent by seq, capped
// history (oldest trimmed, count kept), TTL refreshed on write.
import type { TtlPolicy } from '../../config.js';
import { voiceError } from '../../domain/errors.js';
import { CONVERSATION_SCHEMA_VERSION, type ConversationState, type Turn } from '../../domain/conversation.js';
import type { AppendAndRead, AppendResult, Clock, ConversationStore } from '../../domain/ports.js';
import { TtlMap } from './ttl-map.js';

interface History {
  turns: Turn[];
  count: number;
  /** Highest seq trimmed away: a replay at or below it is a duplicate. */
  floor: number;
  /** Highest seq stored. */
  top: number;
}

export class MemoryConversationStore implements ConversationStore {
  readonly #context: TtlMap<Record<string, unknown>>;
  readonly #history: TtlMap<History>;

  constructor(
    deps: { clock: Clock },
    private readonly cfg: { ttl: Pick<TtlPolicy, 'context' | 'history'>; historyMaxTurns: number },
  ) {
    this.#context = new TtlMap(deps.clock);
    this.#history = new TtlMap(deps.clock);
  }

  async getState(callId: string): Promise<ConversationState> {
    const h = this.#history.get(callId);
    return {
      callId,
      schemaVersion: CONVERSATION_SCHEMA_VERSION,
      context: structuredClone(this.#context.get(callId) ?? {}),
      history: h ? h.turns.map((t) => ({ ...t })) : [],
      turnCount: h?.count ?? 0,
    };
  }

  async updateContext(callId: string, patch: Readonly<Record<string, unknown>>): Promise<void> {
    const next = { ...(this.#context.get(callId) ?? {}), ...structuredClone(patch) };
    for (const [k, v] of Object.entries(next)) if (v === null) delete next[k];
    this.#context.set(callId, next, this.cfg.ttl.context);
  }

  async appendTurn(callId: string, turn: Turn): Promise<AppendResult> {
    if (!Number.isSafeInteger(turn.seq) || turn.seq < 1) throw voiceError('INVALID_PAYLOAD', `turn seq must be a positive integer, got ${String(turn.seq)}`);
    const h = this.#history.get(callId) ?? { turns: [], count: 0, floor: 0, top: 0 };
    let stored = false;
    let seq = turn.seq;
    if (seq > h.floor) {
      let same = h.turns.find((t) => t.seq === seq);
      // The same turn again is a replay; another turn under a taken seq goes after the highest one.
      if (same && JSON.stringify(same) !== JSON.stringify({ ...turn })) {
        seq = Math.max(h.top, h.floor) + 1;
        same = undefined;
      }
      if (!same) {
        stored = true;
        h.count++;
        h.top = Math.max(h.top, seq);
        const last = h.turns[h.turns.length - 1];
        h.turns.push({ ...turn, seq });
        if (last && last.seq > seq) h.turns.sort((a, b) => a.seq - b.seq);
        while (h.turns.length > this.cfg.historyMaxTurns) h.floor = Math.max(h.floor, (h.turns.shift() as Turn).seq);
      }
    }
    this.#history.set(callId, h, this.cfg.ttl.history);
    return { stored, turnCount: h.count, seq };
  }

  /** Drops what is held for a call (the mirror of a call that left this replica). */
  forget(callId: string): void {
    this.#context.delete(callId);
    this.#history.delete(callId);
  }

  /** Calls with a context or a history held (expired entries not yet swept included). */
  get size(): number {
    return Math.max(this.#context.size, this.#history.size);
  }

  async appendTurnAndRead(callId: string, turn: Turn): Promise<AppendAndRead> {
    const result = await this.appendTurn(callId, turn);
    return { ...result, state: await this.getState(callId) };
  }
}
