// Cluster-wide admission of a new call (issue 18): the call's tenant (by the called number), then one
// slot reserved in Redis under the tenant cap, the global cap and the global rate limit, BEFORE
// anything slow (profile read, answerCall). The reservation is a lease renewed for every live call of
// this replica in one batched call; it is confirmed with the call id once ACS accepted the call and
// released exactly once: at finalization, or when the answer fails.
//
// Redis down: each replica admits up to its share, floor(cap / live replicas) per tenant, of the
// global cap and of the rate limit, the replica count being the worker registry's last view. Counted
// in voice_admission_fallback_total. Calls admitted on that share are not written to Redis when it
// returns (their slots exist only here); they are released locally.
import { randomUUID } from 'node:crypto';
import type { CallSlots, HeldSlot, SlotLimits, SlotRefusal } from '../domain/call-slots.js';
import type { Tenant, TenantResolver } from '../domain/tenants.js';
import type { Logger } from '../logger.js';
import { counter, histogram, type Registry } from '../metrics.js';
import { isBackendDown } from '../adapters/redis/redis-errors.js';

export type AdmissionDecision = 'admitted' | `refused-${SlotRefusal}`;

interface Ticket {
  readonly id: string;
  readonly tenant: Tenant;
  /** 'redis': the slot lives in Redis; 'local': admitted on this replica's share while Redis was down. */
  readonly mode: 'redis' | 'local';
  member: string;
  state: 'reserved' | 'confirmed' | 'released';
  callId: string | null;
  /** Confirm and release run in order, never concurrently. */
  chain: Promise<void>;
}

export type SlotDecision =
  | { readonly admitted: true; readonly tenantId: string }
  | { readonly admitted: false; readonly refused: SlotRefusal; readonly tenantId: string; readonly retryAfterMs: number };

export interface CallAdmissionDeps {
  readonly slots: CallSlots | null;
  readonly tenants: TenantResolver;
  /** Live replicas (this one included) as of the worker registry's last heartbeat; ≥ 1. */
  readonly liveReplicas: () => number;
  readonly registry: Registry;
  readonly now: () => number;
  readonly log: Logger;
}

export interface CallAdmissionConfig {
  readonly workerId: string;
  readonly globalMaxConcurrent: number;
  readonly maxCallsPerWindow: number;
  readonly rateWindowMs: number;
  readonly leaseMs: number;
}

export class CallAdmission {
  readonly #byClaim = new Map<string, Ticket>();
  readonly #byCall = new Map<string, Ticket>();
  /** Every ticket not yet released (reserved or confirmed). */
  readonly #held = new Set<Ticket>();
  readonly #localByTenant = new Map<string, number>();
  /** Admission times on this replica within the rate window (for the fallback share). */
  #recent: number[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #decisions;
  readonly #fallback;
  readonly #latency;
  readonly #releaseFailures;

  constructor(
    private readonly deps: CallAdmissionDeps,
    private readonly cfg: CallAdmissionConfig,
  ) {
    this.#decisions = counter(deps.registry, 'voice_admission_decisions_total', 'Slot admission decisions by decision and path (redis, fallback)', ['decision', 'path']);
    this.#fallback = counter(deps.registry, 'voice_admission_fallback_total', 'Admission decisions taken on the replica share because Redis did not answer', ['decision']);
    this.#latency = histogram(deps.registry, 'voice_admission_decision_seconds', 'Slot admission decision time (Redis round trips included)', ['path']);
    this.#releaseFailures = counter(deps.registry, 'voice_admission_release_failures_total', 'Slot releases Redis did not take (the lease frees the slot)');
  }

  /** Slots this replica holds (reserved or confirmed). */
  get held(): number {
    return this.#held.size;
  }

  /** Renews every held lease each third of the lease. */
  start(): void {
    if (this.#timer || !this.deps.slots) return;
    this.#timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.cfg.leaseMs / 3)));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reserves a slot for the call `claimId` to `calledNumber`. */
  reserve(claimId: string, calledNumber: string | null): Promise<SlotDecision> {
    return this.#reserveFor(claimId, this.deps.tenants.byCalledNumber(calledNumber));
  }

  async #reserveFor(claimId: string, tenant: Tenant): Promise<SlotDecision> {
    const started = performance.now();
    const limits: SlotLimits = { tenantCap: tenant.maxConcurrent, globalCap: this.cfg.globalMaxConcurrent, rateLimit: this.cfg.maxCallsPerWindow, windowMs: this.cfg.rateWindowMs };
    const id = randomUUID();
    const member = `r:${this.cfg.workerId}:${id}`;
    if (this.deps.slots) {
      try {
        const r = await this.deps.slots.reserve(tenant.id, member, limits);
        this.#latency.observe({ path: 'redis' }, (performance.now() - started) / 1000);
        if (!r.reserved) return this.#refuse(tenant, r.refused, r.retryAfterMs, 'redis');
        this.#admit(claimId, { id, tenant, mode: 'redis', member, state: 'reserved', callId: null, chain: Promise.resolve() });
        return { admitted: true, tenantId: tenant.id };
      } catch (err) {
        if (!isBackendDown(err)) throw err;
        this.deps.log.warn({ err, tenant: tenant.id }, 'slot store unavailable; admitting on this replica share');
      }
    }
    const refused = this.#shareRefusal(tenant, limits);
    this.#latency.observe({ path: 'fallback' }, (performance.now() - started) / 1000);
    if (refused) {
      this.#fallback.inc({ decision: `refused-${refused}` });
      return this.#refuse(tenant, refused, 0, 'fallback');
    }
    this.#fallback.inc({ decision: 'admitted' });
    this.#admit(claimId, { id, tenant, mode: 'local', member, state: 'reserved', callId: null, chain: Promise.resolve() });
    return { admitted: true, tenantId: tenant.id };
  }

  /**
   * Outbound (a campaign's call to place): waits for a slot instead of failing — the next rate permit
   * (the refusal says when it frees) or a freed tenant / global slot (polled every `pollMs`), up to
   * `maxWaitMs`. The slots and the rate limit are the ones inbound calls use.
   */
  async reserveWaiting(claimId: string, tenantId: string, opts: { maxWaitMs: number; pollMs?: number; signal?: AbortSignal }): Promise<SlotDecision> {
    const tenant = this.deps.tenants.byId(tenantId);
    if (!tenant) throw new Error(`unknown tenant ${tenantId}`);
    const until = this.deps.now() + opts.maxWaitMs;
    for (;;) {
      const d = await this.#reserveFor(claimId, tenant);
      if (d.admitted || opts.signal?.aborted) return d;
      const wait = d.refused === 'rate' ? Math.max(1, d.retryAfterMs) : (opts.pollMs ?? 50);
      if (this.deps.now() + wait > until) return d;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** The tenant of a reservation not yet confirmed (the answerer stamps it on the call). */
  tenantOfClaim(claimId: string): string | null {
    return this.#byClaim.get(claimId)?.tenant.id ?? null;
  }

  /** ACS accepted the call: its slot is now the call's (confirmed in Redis with the call id). */
  confirm(claimId: string, callId: string): void {
    const t = this.#byClaim.get(claimId);
    if (!t || t.state !== 'reserved') return;
    this.#byClaim.delete(claimId);
    t.state = 'confirmed';
    t.callId = callId;
    this.#byCall.set(callId, t);
    if (t.mode !== 'redis' || !this.deps.slots) return;
    const slots = this.deps.slots;
    const callMember = `c:${this.cfg.workerId}:${callId}`;
    t.chain = t.chain.then(async () => {
      if (t.state === 'released') return;
      try {
        const fresh = await slots.confirm(t.tenant.id, t.member, callMember);
        t.member = callMember;
        if (!fresh) this.deps.log.warn({ callId, tenant: t.tenant.id }, 'slot reservation had expired before the answer; taken back for the live call');
      } catch (err) {
        // The reservation's lease goes on under its first name (renewed, released by it).
        this.deps.log.warn({ err, callId }, 'slot not confirmed');
      }
    });
  }

  /** The call ended (finalized): its slot is freed, once. */
  releaseCall(callId: string): Promise<void> {
    const t = this.#byCall.get(callId);
    if (!t) return Promise.resolve();
    this.#byCall.delete(callId);
    return this.#release(t);
  }

  /** The call was never answered (refused by ACS, failed, given up): its reservation is freed, once. */
  releaseClaim(claimId: string): Promise<void> {
    const t = this.#byClaim.get(claimId);
    if (!t) return Promise.resolve();
    this.#byClaim.delete(claimId);
    return this.#release(t);
  }

  /** One batched renewal of every Redis-held lease of this replica. */
  async renew(): Promise<void> {
    if (!this.deps.slots) return;
    const held: HeldSlot[] = [];
    for (const t of this.#held) if (t.mode === 'redis') held.push({ tenantId: t.tenant.id, member: t.member });
    if (held.length === 0) return;
    try {
      await this.deps.slots.renew(held);
    } catch (err) {
      this.deps.log.warn({ err, slots: held.length }, 'slot leases not renewed');
    }
  }

  #admit(claimId: string, t: Ticket): void {
    this.#byClaim.set(claimId, t);
    this.#held.add(t);
    this.#localByTenant.set(t.tenant.id, (this.#localByTenant.get(t.tenant.id) ?? 0) + 1);
    if (this.cfg.maxCallsPerWindow > 0) this.#recent.push(this.deps.now());
    this.#decisions.inc({ decision: 'admitted', path: t.mode === 'redis' ? 'redis' : 'fallback' });
  }

  #refuse(tenant: Tenant, refused: SlotRefusal, retryAfterMs: number, path: 'redis' | 'fallback'): SlotDecision {
    this.#decisions.inc({ decision: `refused-${refused}`, path });
    return { admitted: false, refused, tenantId: tenant.id, retryAfterMs };
  }

  /** Redis down: this replica's share, floor(cap / live replicas), of each limit. */
  #shareRefusal(tenant: Tenant, limits: SlotLimits): SlotRefusal | null {
    const replicas = Math.max(1, this.deps.liveReplicas());
    if ((this.#localByTenant.get(tenant.id) ?? 0) >= Math.floor(limits.tenantCap / replicas)) return 'tenant';
    if (limits.globalCap > 0 && this.#held.size >= Math.floor(limits.globalCap / replicas)) return 'global';
    if (limits.rateLimit > 0) {
      const since = this.deps.now() - limits.windowMs;
      let i = 0;
      while (i < this.#recent.length && (this.#recent[i] as number) <= since) i++;
      if (i > 0) this.#recent = this.#recent.slice(i);
      if (this.#recent.length >= Math.floor(limits.rateLimit / replicas)) return 'rate';
    }
    return null;
  }

  #release(t: Ticket): Promise<void> {
    if (t.state === 'released') return t.chain;
    t.state = 'released';
    this.#held.delete(t);
    const n = (this.#localByTenant.get(t.tenant.id) ?? 1) - 1;
    if (n > 0) this.#localByTenant.set(t.tenant.id, n);
    else this.#localByTenant.delete(t.tenant.id);
    if (t.mode !== 'redis' || !this.deps.slots) return t.chain;
    const slots = this.deps.slots;
    t.chain = t.chain.then(async () => {
      try {
        await slots.release({ tenantId: t.tenant.id, member: t.member });
      } catch (err) {
        this.#releaseFailures.inc();
        this.deps.log.warn({ err, tenant: t.tenant.id }, 'slot not released; its lease frees it');
      }
    });
    return t.chain;
  }
}
