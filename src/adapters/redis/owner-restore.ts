// Writes back what the owner of live calls holds in memory after Redis lost it (restart without
// persistence, failover, flush, or a stall past the TTLs): session snapshot, auth state, conversation
// context and history. Pipelined: one round trip per batch of calls (per Cluster node), never one
// per call. Idempotent: turns are appended by seq (a turn already stored is not stored again), the
// context fields are set to what the owner holds, records are SET with their TTLs.
import type { TtlPolicy } from '../../config.js';
import type { CallAuthState, CallSessionSnapshot } from '../../domain/call-records.js';
import { CONVERSATION_SCHEMA_VERSION, type ConversationState } from '../../domain/conversation.js';
import { groupByNode } from './cluster-slots.js';
import { encodePatch, encodeTurn } from './conversation-codec.js';
import type { RedisClient } from './redis-client.js';
import type { RedisKeys } from './keys.js';
import { toBackendError } from './redis-errors.js';
import type { RedisScripts } from './scripts.js';
import { ttlFor } from './ttl-policy.js';

export interface HeldCallState {
  readonly callId: string;
  /** The fence this replica holds the call under (conversation writes are fenced by it). */
  readonly fence: number;
  readonly session: CallSessionSnapshot;
  readonly auth: CallAuthState | null;
  readonly conversation: ConversationState;
}

export interface OwnerRestoreConfig {
  readonly ttl: TtlPolicy;
  readonly historyMaxTurns: number;
  /** Calls per pipelined round trip. */
  readonly batchSize: number;
}

export class RedisOwnerRestore {
  constructor(
    private readonly deps: { client: RedisClient; scripts: RedisScripts; keys: RedisKeys },
    private readonly cfg: OwnerRestoreConfig,
  ) {}

  /** Writes every call's state back; resolves with the number of round trips taken. */
  async restore(calls: readonly HeldCallState[]): Promise<number> {
    const k = this.deps.keys;
    const ttl = this.cfg.ttl;
    let roundTrips = 0;
    for (const group of groupByNode(this.deps.client, calls, (c) => k.callSession(c.callId))) {
      for (let i = 0; i < group.length; i += this.cfg.batchSize) {
        const p = this.deps.client.pipeline();
        for (const c of group.slice(i, i + this.cfg.batchSize)) {
          p.set(k.callSession(c.callId), JSON.stringify(c.session), 'EX', ttlFor(ttl, 'callSession'));
          if (c.auth) p.set(k.callAuth(c.callId), JSON.stringify(c.auth), 'EX', ttlFor(ttl, 'callAuth'));
          const patch = encodePatch(c.conversation.context);
          if (patch.length > 0) this.deps.scripts.queue(p, 'updateContext', [k.conversationContext(c.callId)], [ttlFor(ttl, 'conversationContext'), ...patch]);
          for (const turn of c.conversation.history) {
            this.deps.scripts.queue(
              p,
              'appendTurn',
              [k.conversationHistory(c.callId), k.conversationMeta(c.callId), k.callOwner(c.callId), k.conversationContext(c.callId)],
              [turn.seq, encodeTurn(turn), this.cfg.historyMaxTurns, ttlFor(ttl, 'conversationHistory'), CONVERSATION_SCHEMA_VERSION, c.fence],
            );
          }
        }
        let results: [Error | null, unknown][] | null;
        try {
          results = await p.exec();
        } catch (err) {
          throw toBackendError(err, 'restore');
        }
        roundTrips++;
        const failed = (results ?? []).find(([err]) => err);
        if (!results || failed) throw toBackendError(failed?.[0] ?? new Error('pipeline aborted'), 'restore');
      }
    }
    return roundTrips;
  }
}
