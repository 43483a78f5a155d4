// AffinityStore over Redis: fenced owner leases. acquire INCRs the call's fence counter (which has
// its own TTL) and sets the owner in one script; renewAll renews every lease of this replica in one
// pipelined round trip per Cluster node and re-asserts a lease that is gone (Redis flushed, restarted
// empty, failed over, or stalled past the TTL) unless a higher fence was issued since; a stale owner
// cannot renew or release a newer owner's lease.
import type { TtlPolicy } from '../../config.js';
import type { AffinityStore, Lease, RenewResult } from '../../domain/ports.js';
import { groupByNode } from './cluster-slots.js';
import type { RedisClient } from './redis-client.js';
import type { RedisKeys } from './keys.js';
import { SCRIPT_CODE, checkCode, toBackendError } from './redis-errors.js';
import type { RedisScripts } from './scripts.js';
import { ttlFor } from './ttl-policy.js';

export function parseOwner(raw: string | null): { fence: number; owner: string } | null {
  if (raw === null) return null;
  const i = raw.indexOf(':');
  if (i < 0) return null;
  return { fence: Number(raw.slice(0, i)), owner: raw.slice(i + 1) };
}

export class RedisAffinityStore implements AffinityStore {
  constructor(
    private readonly deps: { client: RedisClient; scripts: RedisScripts; keys: RedisKeys },
    private readonly ttl: TtlPolicy,
  ) {}

  async acquire(callId: string, owner: string): Promise<Lease> {
    const k = this.deps.keys;
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run('acquireLease', [k.callOwner(callId), k.callFence(callId)], [owner, ttlFor(this.ttl, 'callOwner'), ttlFor(this.ttl, 'callFence')]);
    } catch (err) {
      throw toBackendError(err, 'acquire');
    }
    const [code, fence] = reply as [number, number];
    checkCode(code, `lease ${callId}`);
    return { callId, owner, fence: Number(fence) };
  }

  async renewAll(leases: readonly Lease[]): Promise<RenewResult> {
    if (leases.length === 0) return { lost: [], reasserted: [] };
    const k = this.deps.keys;
    const leaseTtl = ttlFor(this.ttl, 'callOwner');
    const fenceTtl = ttlFor(this.ttl, 'callFence');
    const groups = groupByNode(this.deps.client, leases, (l) => k.callOwner(l.callId));
    const lost: string[] = [];
    const reasserted: string[] = [];
    await Promise.all(
      groups.map(async (group) => {
        const p = this.deps.client.pipeline();
        for (const l of group) this.deps.scripts.queue(p, 'renewLease', [k.callOwner(l.callId), k.callFence(l.callId)], [l.fence, leaseTtl, fenceTtl, l.owner]);
        let results: [Error | null, unknown][] | null;
        try {
          results = await p.exec();
        } catch (err) {
          throw toBackendError(err, 'renewAll');
        }
        if (!results) throw toBackendError(new Error('pipeline aborted'), 'renewAll');
        results.forEach(([err, code], i) => {
          if (err) throw toBackendError(err, 'renewAll');
          const callId = (group[i] as Lease).callId;
          if (Number(code) === SCRIPT_CODE.REASSERTED) reasserted.push(callId);
          else if (Number(code) !== SCRIPT_CODE.OK) lost.push(callId);
        });
      }),
    );
    return { lost, reasserted };
  }

  async release(lease: Lease): Promise<void> {
    let code: unknown;
    try {
      code = await this.deps.scripts.run('releaseLease', [this.deps.keys.callOwner(lease.callId)], [lease.fence]);
    } catch (err) {
      throw toBackendError(err, 'release');
    }
    checkCode(code, `lease ${lease.callId}`);
  }

  async ownerOf(callId: string): Promise<string | null> {
    try {
      return parseOwner(await this.deps.client.get(this.deps.keys.callOwner(callId)))?.owner ?? null;
    } catch (err) {
      throw toBackendError(err, 'ownerOf');
    }
  }
}
