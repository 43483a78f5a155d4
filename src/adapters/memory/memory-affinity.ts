// In-process AffinityStore: fenced owner leases with TTL, for a single replica and tests.
import { voiceError } from '../../domain/errors.js';
import type { AffinityStore, Clock, Lease, RenewResult } from '../../domain/ports.js';
import { TtlMap } from './ttl-map.js';

export class MemoryAffinityStore implements AffinityStore {
  readonly #owners: TtlMap<{ owner: string; fence: number }>;
  readonly #fences = new Map<string, number>();

  constructor(deps: { clock: Clock }, private readonly leaseSeconds: number) {
    this.#owners = new TtlMap(deps.clock);
  }

  async acquire(callId: string, owner: string): Promise<Lease> {
    const fence = (this.#fences.get(callId) ?? 0) + 1;
    this.#fences.set(callId, fence);
    this.#owners.set(callId, { owner, fence }, this.leaseSeconds);
    return { callId, owner, fence };
  }

  async renewAll(leases: readonly Lease[]): Promise<RenewResult> {
    const lost: string[] = [];
    const reasserted: string[] = [];
    for (const l of leases) {
      const cur = this.#owners.get(l.callId);
      if (cur && cur.fence === l.fence) this.#owners.touch(l.callId, this.leaseSeconds);
      else if (cur || (this.#fences.get(l.callId) ?? 0) > l.fence) lost.push(l.callId);
      else {
        // Gone (expired) and no newer fence issued: the holder takes it back (same as renew-lease-2.lua).
        this.#fences.set(l.callId, Math.max(l.fence, this.#fences.get(l.callId) ?? 0));
        this.#owners.set(l.callId, { owner: l.owner, fence: l.fence }, this.leaseSeconds);
        reasserted.push(l.callId);
      }
    }
    return { lost, reasserted };
  }

  async release(lease: Lease): Promise<void> {
    const cur = this.#owners.get(lease.callId);
    if (cur && cur.fence !== lease.fence) throw voiceError('STALE_FENCE', `lease for ${lease.callId} is held by a newer owner`);
    this.#owners.delete(lease.callId);
  }

  async ownerOf(callId: string): Promise<string | null> {
    return this.#owners.get(callId)?.owner ?? null;
  }
}
