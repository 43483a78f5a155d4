// The owner re-asserts: when the lease keeper finds leases of live calls gone (Redis restarted empty,
// failed over, flushed, or stalled past TTL_LEASE) and takes them back, this writes back what the
// replica holds in memory for each of those calls (session snapshot, auth state, conversation) in
// batched round trips, then collects the callbacks another replica held for them while no owner
// was known. Runs again on the next renewal if Redis fails midway.
import type { CallRegistry, LiveCall } from '../domain/live-call.js';
import type { CallbackEnvelope, EventRouter } from '../domain/ports.js';
import type { LeaseKeeper } from '../domain/lease-keeper.js';
import type { Logger } from '../logger.js';
import { counter, type Registry } from '../metrics.js';
import type { HeldCallState, RedisOwnerRestore } from '../adapters/redis/owner-restore.js';
import type { ResilientConversationStore } from '../adapters/redis/resilient-conversation-store.js';
import type { ResilientSessionStore } from '../adapters/redis/resilient-session-store.js';
import { snapshotOf } from '../server/call-answerer.js';

export interface OwnerReassertDeps {
  readonly calls: CallRegistry;
  readonly leases: Pick<LeaseKeeper, 'fenceOf'>;
  readonly sessions: ResilientSessionStore;
  readonly conversations: ResilientConversationStore;
  readonly restorer: RedisOwnerRestore;
  readonly router: EventRouter;
  /** Applies a held callback to a local call. */
  readonly deliver: (call: LiveCall, env: CallbackEnvelope) => void;
  readonly registry: Registry;
  readonly log: Logger;
}

export interface OwnerReassertConfig {
  readonly workerId: string;
  readonly audioFormat: 'pcm16KMono' | 'pcm24KMono';
}

export function ownerReassert(deps: OwnerReassertDeps, cfg: OwnerReassertConfig): (callIds: string[]) => Promise<void> {
  const restored = counter(deps.registry, 'voice_owner_reasserted_total', 'Live calls whose state the owner wrote back after Redis lost it', ['result']);
  const heldTaken = counter(deps.registry, 'voice_held_callbacks_collected_total', 'Held callbacks collected by the owner', ['when']);

  return async (callIds) => {
    const states: HeldCallState[] = [];
    for (const callId of callIds) {
      const call = deps.calls.get(callId);
      const fence = deps.leases.fenceOf(callId);
      if (!call || fence === 0) continue;
      states.push({
        callId,
        fence,
        // From the live call, not the stored snapshot: its phase and next turn seq are current.
        session: snapshotOf(call, cfg),
        auth: deps.sessions.held(callId).auth,
        conversation: await deps.conversations.held(callId),
      });
    }
    if (states.length === 0) return;
    try {
      const roundTrips = await deps.restorer.restore(states);
      restored.inc({ result: 'ok' }, states.length);
      deps.log.warn({ calls: states.length, roundTrips }, 'owner re-asserted live calls: state written back to Redis');
    } catch (err) {
      restored.inc({ result: 'failed' }, states.length);
      deps.log.warn({ err, calls: states.length }, 'writing back live calls failed; the next renewal retries');
      return;
    }
    await Promise.all(states.map((s) => collectHeld(deps, s.callId, () => heldTaken.inc({ when: 'reassert' }))));
  };
}

/** Takes the callbacks held for a local call and applies them in order. */
export async function collectHeld(deps: Pick<OwnerReassertDeps, 'calls' | 'router' | 'deliver' | 'log'>, callId: string, counted?: () => void): Promise<number> {
  let held: CallbackEnvelope[];
  try {
    held = await deps.router.takeHeld(callId);
  } catch (err) {
    deps.log.warn({ err, callId }, 'could not take held callbacks');
    return 0;
  }
  const call = deps.calls.get(callId);
  for (const env of held) {
    if (!call) break;
    deps.deliver(call, env);
    counted?.();
  }
  return held.length;
}
