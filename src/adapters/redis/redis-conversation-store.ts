// ConversationStore over Redis: one Lua script per operation, one round trip each. A caller's turn
// uses appendTurnAndRead: the append script returns the conversation after the append, so storing
// the turn and reading what the responder needs is one round trip (append-turn-4.lua with its read
// flag). Every write refreshes the TTLs of what it touched.
import type { TtlPolicy } from '../../config.js';
import { voiceError } from '../../domain/errors.js';
import { CONVERSATION_SCHEMA_VERSION, type ConversationState, type Turn } from '../../domain/conversation.js';
import type { AppendAndRead, AppendResult, ConversationStore } from '../../domain/ports.js';
import { decodeConversation, encodePatch, encodeTurn } from './conversation-codec.js';
import type { RedisKeys } from './keys.js';
import { checkCode, toBackendError } from './redis-errors.js';
import type { RedisScripts } from './scripts.js';
import { ttlFor } from './ttl-policy.js';

export interface RedisConversationConfig {
  readonly ttl: TtlPolicy;
  readonly historyMaxTurns: number;
}

export class RedisConversationStore implements ConversationStore {
  constructor(
    private readonly deps: {
      scripts: RedisScripts;
      keys: RedisKeys;
      /** The fence under which this replica holds a call (0 = none known: the append is not fenced). */
      fenceOf?: (callId: string) => number;
    },
    private readonly cfg: RedisConversationConfig,
  ) {}

  async getState(callId: string): Promise<ConversationState> {
    const k = this.deps.keys;
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run('getConversation', [k.conversationContext(callId), k.conversationHistory(callId), k.conversationMeta(callId)], []);
    } catch (err) {
      throw toBackendError(err, 'getState');
    }
    checkCode((reply as unknown[])[0], `conversation ${callId}`);
    return decodeConversation(callId, reply);
  }

  async updateContext(callId: string, patch: Readonly<Record<string, unknown>>): Promise<void> {
    const args = encodePatch(patch);
    if (args.length === 0) return;
    const k = this.deps.keys;
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run('updateContext', [k.conversationContext(callId)], [ttlFor(this.cfg.ttl, 'conversationContext'), ...args]);
    } catch (err) {
      throw toBackendError(err, 'updateContext');
    }
    checkCode((reply as unknown[])[0], `conversation ${callId}`);
  }

  async appendTurn(callId: string, turn: Turn): Promise<AppendResult> {
    const [code, stored, count, seq] = (await this.#append(callId, turn, false)) as [number, number, number, number];
    checkCode(code, `conversation ${callId}`);
    return { stored: stored === 1, turnCount: Number(count), seq: Number(seq) };
  }

  async appendTurnAndRead(callId: string, turn: Turn): Promise<AppendAndRead> {
    const [code, stored, count, seq, ctx, hist, version] = (await this.#append(callId, turn, true)) as [number, number, number, number, string[], string[], number];
    checkCode(code, `conversation ${callId}`);
    return { stored: stored === 1, turnCount: Number(count), seq: Number(seq), state: decodeConversation(callId, [code, ctx, hist, count, version]) };
  }

  async #append(callId: string, turn: Turn, read: boolean): Promise<unknown> {
    if (!Number.isSafeInteger(turn.seq) || turn.seq < 1) throw voiceError('INVALID_PAYLOAD', `turn seq must be a positive integer, got ${String(turn.seq)}`);
    const k = this.deps.keys;
    try {
      return await this.deps.scripts.run(
        'appendTurn',
        [k.conversationHistory(callId), k.conversationMeta(callId), k.callOwner(callId), k.conversationContext(callId)],
        [turn.seq, encodeTurn(turn), this.cfg.historyMaxTurns, ttlFor(this.cfg.ttl, 'conversationHistory'), CONVERSATION_SCHEMA_VERSION, this.deps.fenceOf?.(callId) ?? 0, read ? 1 : 0],
      );
    } catch (err) {
      throw toBackendError(err, 'appendTurn');
    }
  }
}
