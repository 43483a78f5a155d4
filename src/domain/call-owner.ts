// Who holds a call, per the store (the replica with its media socket), as the call's timers ask it
// before hanging up: a call alive on another replica is let go here, not hung up.
import type { LiveCall } from './live-call.js';
import type { CallSupervisorDeps } from './call-supervisor.js';

export type CallOwnerDeps = Pick<CallSupervisorDeps, 'ownerOf' | 'workerId' | 'storeSettling'>;

/** The call's owner per the store; undefined when it cannot say (or there is no store). */
export async function callOwner(deps: CallOwnerDeps, callId: string): Promise<string | null | undefined> {
  const { ownerOf } = deps;
  if (!ownerOf) return undefined;
  try {
    return await ownerOf(callId);
  } catch {
    return undefined;
  }
}

/** 'yes' only when another replica positively owns the call; 'unknown' when the store cannot answer. */
export async function ownedElsewhere(deps: CallOwnerDeps, call: Pick<LiveCall, 'callId' | 'log'>): Promise<'yes' | 'no' | 'unknown'> {
  const { ownerOf, workerId } = deps;
  if (!ownerOf || !workerId) return 'no';
  try {
    const owner = await ownerOf(call.callId);
    if (owner === null && deps.storeSettling?.()) {
      call.log.info('no call owner in a store that just came back; asking again later');
      return 'unknown';
    }
    return owner !== null && owner !== workerId ? 'yes' : 'no';
  } catch (err) {
    call.log.warn({ err }, 'owner lookup failed');
    return 'unknown';
  }
}
