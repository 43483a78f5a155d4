// CallSlots over Redis (reserve-call-slot-3.lua, confirm-call-slot-1.lua, renew-call-slots-1.lua).
// On a single Redis the reservation is ONE script and one round trip: tenant cap, global cap and
// rate limit checked and taken together. On Redis Cluster a script may only touch keys of one hash
// slot, and a tenant's keys ({tenant id}) and the global ones ({global}) hash apart, so the script
// runs in two parts (tenant, then global + rate) and the tenant part is undone when the global part
// refuses: two round trips (three on a global refusal). Releases and renewals are pipelined per node.
import { Cluster } from 'ioredis';
import type { CallSlots, HeldSlot, ReserveOutcome, SlotLimits, SlotRefusal } from '../../domain/call-slots.js';
import { groupByNode } from './cluster-slots.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { SCRIPT_CODE, checkCode, toBackendError } from './redis-errors.js';
import type { RedisScripts } from './scripts.js';

const REFUSED: Record<number, SlotRefusal> = { [SCRIPT_CODE.NO_SLOT]: 'tenant', [SCRIPT_CODE.GLOBAL_FULL]: 'global', [SCRIPT_CODE.RATE_LIMITED]: 'rate' };

type Reply = [number, number, number, number, number];

export class RedisCallSlots implements CallSlots {
  readonly #cluster: boolean;

  constructor(
    private readonly deps: { client: RedisClient; scripts: RedisScripts; keys: RedisKeys },
    private readonly cfg: { leaseMs: number },
  ) {
    this.#cluster = deps.client instanceof Cluster;
  }

  async reserve(tenantId: string, member: string, limits: SlotLimits): Promise<ReserveOutcome> {
    const { keys, scripts } = this.deps;
    const tenantKey = keys.slots(tenantId);
    const globalKey = keys.globalSlots();
    const rateKey = keys.globalRate();
    const args = (part: string) => [member, limits.tenantCap, limits.globalCap, limits.rateLimit, limits.windowMs, this.cfg.leaseMs, part];
    try {
      if (!this.#cluster) {
        const r = (await scripts.run('reserveCallSlot', [tenantKey, globalKey, rateKey], args('all'))) as Reply;
        return outcome(r, 1);
      }
      const t = (await scripts.run('reserveCallSlot', [tenantKey, tenantKey, tenantKey], args('tenant'))) as Reply;
      if (t[0] !== SCRIPT_CODE.OK) return outcome(t, 1);
      const g = (await scripts.run('reserveCallSlot', [globalKey, globalKey, rateKey], args('global'))) as Reply;
      if (g[0] === SCRIPT_CODE.OK) return outcome([0, t[1], g[2], 0, g[4]], 2);
      await this.deps.client.zrem(tenantKey, member);
      return outcome(g, 3);
    } catch (err) {
      throw toBackendError(err, 'reserveCallSlot');
    }
  }

  async confirm(tenantId: string, reservation: string, callMember: string): Promise<boolean> {
    const { keys, scripts, client } = this.deps;
    const keyList = [keys.slots(tenantId), keys.globalSlots()];
    try {
      const replies = await this.#each(keyList, (pipe, key) => scripts.queue(pipe, 'confirmCallSlot', [key], [reservation, callMember, this.cfg.leaseMs]), client);
      let fresh = true;
      for (const r of replies) {
        const code = Number((r as number[])[0]);
        if (code === SCRIPT_CODE.LEASE_GONE) fresh = false;
        else checkCode(code, `slots ${tenantId}`);
      }
      return fresh;
    } catch (err) {
      throw toBackendError(err, 'confirmCallSlot');
    }
  }

  async renew(held: readonly HeldSlot[]): Promise<number> {
    if (held.length === 0) return 0;
    const { keys, scripts, client } = this.deps;
    const byKey = new Map<string, string[]>();
    const add = (key: string, m: string) => {
      const list = byKey.get(key);
      if (list) list.push(m);
      else byKey.set(key, [m]);
    };
    for (const h of held) {
      add(keys.slots(h.tenantId), h.member);
      add(keys.globalSlots(), h.member);
    }
    try {
      const replies = await this.#each([...byKey.keys()], (pipe, key) => scripts.queue(pipe, 'renewCallSlots', [key], [this.cfg.leaseMs, ...(byKey.get(key) as string[])]), client);
      return replies.reduce<number>((n, r) => n + Number((r as number[])[1]), 0);
    } catch (err) {
      throw toBackendError(err, 'renewCallSlots');
    }
  }

  async release(slot: HeldSlot): Promise<number> {
    const { keys, client } = this.deps;
    try {
      const replies = await this.#each([keys.slots(slot.tenantId), keys.globalSlots()], (pipe, key) => void pipe.zrem(key, slot.member), client);
      return replies.reduce<number>((n, r) => n + Number(r), 0);
    } catch (err) {
      throw toBackendError(err, 'releaseCallSlot');
    }
  }

  /** One pipeline per node (one round trip on a single Redis; the nodes in parallel on a Cluster). */
  async #each(keyList: readonly string[], queue: (pipe: ReturnType<RedisClient['pipeline']>, key: string) => void, client: RedisClient): Promise<unknown[]> {
    const groups = groupByNode(client, keyList, (k) => k);
    const results = await Promise.all(
      groups.map(async (group) => {
        const pipe = client.pipeline();
        for (const key of group) queue(pipe, key);
        const res = (await pipe.exec()) ?? [];
        return res.map(([err, value]) => {
          if (err) throw err;
          return value;
        });
      }),
    );
    return results.flat();
  }
}

function outcome(r: Reply, roundTrips: number): ReserveOutcome {
  const code = Number(r[0]);
  if (code === SCRIPT_CODE.OK) return { reserved: true, tenantInUse: Number(r[1]), globalInUse: Number(r[2]), roundTrips, serverTimeMs: Number(r[4]) };
  const refused = REFUSED[code];
  if (!refused) {
    checkCode(code, 'reserveCallSlot');
    throw new Error(`reserveCallSlot: unexpected code ${code}`);
  }
  return { reserved: false, refused, retryAfterMs: Math.max(0, Number(r[3])), roundTrips };
}
