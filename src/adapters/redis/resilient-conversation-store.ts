// Keeps live calls going through a Redis outage. Every write also lands in an in-process mirror;
// when Redis is unreachable (or the call already has writes waiting) the write goes to a bounded
// per-call outbox and the caller gets the mirror's answer: a write is never rejected for an outage.
// The outbox is replayed in order when Redis is back (turns are idempotent by seq). Reads fall back
// to the mirror while Redis is down or while the call still has writes waiting.
import type { ConversationState, Turn } from '../../domain/conversation.js';
import type { AppendAndRead, AppendResult, ConversationStore, ReadinessCheck } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import { counter, gauge, type Registry } from '../../metrics.js';
import { isBackendDown } from './redis-errors.js';

type OutboxOp = { readonly kind: 'turn'; readonly turn: Turn } | { readonly kind: 'context'; readonly patch: Readonly<Record<string, unknown>> };

export interface ResilientConfig {
  /** Writes kept per call while Redis is unreachable (oldest dropped beyond it, counted). */
  readonly outboxMax: number;
  /** How often a non-empty outbox retries on its own (besides the reconnect signal). */
  readonly replayIntervalMs: number;
}

export class ResilientConversationStore implements ConversationStore {
  readonly #outboxes = new Map<string, OutboxOp[]>();
  /** Calls that left this replica while writes still waited: their mirror goes once those are sent. */
  readonly #leaving = new Set<string>();
  #depth = 0;
  #replay: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #dropped;
  readonly #replayed;
  readonly #fallbackReads;

  constructor(
    private readonly deps: { primary: ConversationStore; mirror: ConversationStore & { forget?(callId: string): void }; isUp: () => boolean; registry: Registry },
    private readonly cfg: ResilientConfig,
    private readonly log: Logger,
  ) {
    const depthOf = () => this.#depth;
    gauge(deps.registry, 'voice_redis_outbox_depth', 'Conversation writes waiting for Redis', [], function collect() {
      this.set(depthOf());
    });
    this.#dropped = counter(deps.registry, 'voice_redis_outbox_dropped_total', 'Outbox writes dropped because a call exceeded REDIS_OUTBOX_MAX');
    this.#replayed = counter(deps.registry, 'voice_redis_outbox_replayed_total', 'Outbox writes replayed to Redis');
    this.#fallbackReads = counter(deps.registry, 'voice_redis_fallback_reads_total', 'Conversation reads served from memory because Redis was unreachable');
  }

  /** What this replica holds for a call (the in-process copy), for re-asserting it after Redis lost it. */
  held(callId: string): Promise<ConversationState> {
    return this.deps.mirror.getState(callId);
  }

  /**
   * This replica took over a call: seed the in-process copy with what Redis holds, so the owner can
   * write it back should Redis lose it later. Idempotent (turns by seq).
   */
  async adopt(state: ConversationState): Promise<void> {
    if (Object.keys(state.context).length > 0) await this.deps.mirror.updateContext(state.callId, state.context);
    for (const turn of state.history) await this.deps.mirror.appendTurn(state.callId, turn);
  }

  /**
   * The call left this replica (finalized and archived, or handed over): its in-process copy goes
   * now, or once the writes it still has waiting are sent (reads fall back to the mirror till then).
   * Without this, every call's turns stayed in memory for MIRROR_IDLE_S after its last write.
   */
  forget(callId: string): void {
    if (this.#outboxes.has(callId)) {
      this.#leaving.add(callId);
      return;
    }
    this.deps.mirror.forget?.(callId);
  }

  /** Writes waiting across all calls. */
  get depth(): number {
    return this.#depth;
  }

  get replaying(): boolean {
    return this.#replay !== null;
  }

  async getState(callId: string): Promise<ConversationState> {
    if (!this.#outboxes.has(callId) && this.deps.isUp()) {
      try {
        return await this.deps.primary.getState(callId);
      } catch (err) {
        if (!isBackendDown(err)) throw err;
      }
    }
    this.#fallbackReads.inc();
    return this.deps.mirror.getState(callId);
  }

  async updateContext(callId: string, patch: Readonly<Record<string, unknown>>): Promise<void> {
    await this.deps.mirror.updateContext(callId, patch);
    await this.#write(callId, { kind: 'context', patch: structuredClone(patch) });
  }

  async appendTurn(callId: string, turn: Turn): Promise<AppendResult> {
    const local = await this.deps.mirror.appendTurn(callId, turn);
    return (await this.#write(callId, { kind: 'turn', turn: { ...turn } })) ?? local;
  }

  /**
   * The caller's turn: stored and the state read in one Redis round trip while Redis is up and the
   * call has nothing queued; otherwise queued like any write, with the state read from the mirror
   * (as getState does then).
   */
  async appendTurnAndRead(callId: string, turn: Turn): Promise<AppendAndRead> {
    const local = await this.deps.mirror.appendTurn(callId, turn);
    if (!this.#outboxes.has(callId) && this.deps.isUp()) {
      try {
        return await this.deps.primary.appendTurnAndRead(callId, { ...turn });
      } catch (err) {
        if (!isBackendDown(err)) throw err;
      }
    }
    this.#enqueue(callId, { kind: 'turn', turn: { ...turn } });
    this.#fallbackReads.inc();
    return { ...local, state: await this.deps.mirror.getState(callId) };
  }

  /** Sends one write to Redis, or queues it; resolves with Redis's answer when it was sent. */
  async #write(callId: string, op: OutboxOp): Promise<AppendResult | null> {
    if (this.#outboxes.has(callId) || !this.deps.isUp()) {
      this.#enqueue(callId, op);
      return null;
    }
    try {
      return await this.#send(callId, op);
    } catch (err) {
      if (!isBackendDown(err)) throw err;
      this.#enqueue(callId, op);
      return null;
    }
  }

  #send(callId: string, op: OutboxOp): Promise<AppendResult | null> {
    if (op.kind === 'turn') return this.deps.primary.appendTurn(callId, op.turn);
    return this.deps.primary.updateContext(callId, op.patch).then(() => null);
  }

  #enqueue(callId: string, op: OutboxOp): void {
    let box = this.#outboxes.get(callId);
    if (!box) {
      box = [];
      this.#outboxes.set(callId, box);
    }
    box.push(op);
    this.#depth++;
    if (box.length > this.cfg.outboxMax) {
      box.shift();
      this.#depth--;
      this.#dropped.inc();
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.replayNow(), this.cfg.replayIntervalMs);
    this.#timer.unref();
  }

  /** Replays every outbox in order (calls in parallel, each call's writes one by one). */
  replayNow(): Promise<void> {
    if (this.#replay) return this.#replay;
    if (this.#outboxes.size === 0 || !this.deps.isUp()) return Promise.resolve();
    this.#replay = (async () => {
      try {
        await Promise.all([...this.#outboxes.keys()].map((callId) => this.#drain(callId)));
      } finally {
        this.#replay = null;
        if (this.#outboxes.size === 0 && this.#timer) {
          clearInterval(this.#timer);
          this.#timer = null;
          this.log.info('conversation outbox replayed');
        }
      }
    })();
    return this.#replay;
  }

  async #drain(callId: string): Promise<void> {
    const box = this.#outboxes.get(callId);
    while (box && box.length > 0) {
      const op = box[0] as OutboxOp;
      try {
        await this.#send(callId, op);
        this.#replayed.inc();
      } catch (err) {
        if (isBackendDown(err)) return;
        this.log.error({ err, callId }, 'outbox write refused by Redis; dropped');
        this.#dropped.inc();
      }
      box.shift();
      this.#depth--;
    }
    if (box && box.length === 0) {
      this.#outboxes.delete(callId);
      if (this.#leaving.delete(callId)) this.deps.mirror.forget?.(callId);
    }
  }

  /** Resolves when every outbox is empty (or the deadline passes); for drain on shutdown and tests. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#depth > 0 && Date.now() < deadline) {
      await this.replayNow();
      if (this.#depth > 0) await new Promise((r) => setTimeout(r, Math.min(100, this.cfg.replayIntervalMs)));
    }
    return this.#depth === 0;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** 'degraded' while writes wait for Redis: live calls go on, new calls are better sent elsewhere. */
  readiness(): ReadinessCheck {
    return {
      name: 'redis-outbox',
      check: async () => (this.#depth > 0 || this.#replay ? 'degraded' : 'ok'),
    };
  }
}
