// Holds the owner leases of every call on this replica and renews them all in one batch on one
// timer (not a timer per call). The replica that holds a call's live socket holds the truth for it:
// a lease found gone (expired while Redis stalled, flushed, lost in a failover) is re-asserted and
// reported so the call's state is written back; only a higher fence issued to another replica means
// the call moved (reported as lost). A lease that could not be taken (Redis down when the socket
// arrived) is kept pending and acquired on a later tick.
import type { AffinityStore, Lease } from './ports.js';
import type { DomainLogger } from './live-call.js';

export interface LeaseKeeperConfig {
  readonly workerId: string;
  /** Lease TTL in seconds; renewals run every third of it. */
  readonly leaseSeconds: number;
}

export interface LeaseKeeperDeps {
  readonly affinity: AffinityStore;
  /** Another replica owns the call now (higher fence): hand it over. */
  readonly onLost: (callId: string) => void;
  /** These calls' leases were gone and are held again (or taken late): re-write their state. */
  readonly onReasserted?: (callIds: string[]) => void;
}

/** Fence 0 marks a lease this replica wants but has not been able to take yet. */
const PENDING = 0;

export class LeaseKeeper {
  readonly #leases = new Map<string, Lease>();
  #timer: NodeJS.Timeout | null = null;
  #renewing: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly deps: LeaseKeeperDeps,
    private readonly cfg: LeaseKeeperConfig,
    private readonly log: DomainLogger,
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.renewNow(), Math.max(200, (this.cfg.leaseSeconds * 1000) / 3));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * Takes ownership of a call (new fence). When the store cannot answer, the lease stays pending
   * (the call is held here all the same) and is taken on a later renewal; the error is rethrown.
   */
  async hold(callId: string): Promise<Lease> {
    this.#leases.set(callId, this.#leases.get(callId) ?? { callId, owner: this.cfg.workerId, fence: PENDING });
    try {
      const lease = await this.deps.affinity.acquire(callId, this.cfg.workerId);
      if (this.#leases.has(callId)) this.#leases.set(callId, lease);
      return lease;
    } catch (err) {
      this.log.warn({ err, callId }, 'owner lease not taken yet; retrying on the next renewal');
      throw err;
    }
  }

  async drop(callId: string): Promise<void> {
    const lease = this.#leases.get(callId);
    if (!lease) return;
    this.#leases.delete(callId);
    if (lease.fence === PENDING) return;
    try {
      await this.deps.affinity.release(lease);
    } catch (err) {
      this.log.warn({ err, callId }, 'lease release failed (it will expire)');
    }
  }

  /** Forgets a call without releasing its lease (it moved to a newer owner). */
  forget(callId: string): void {
    this.#leases.delete(callId);
  }

  holds(callId: string): boolean {
    return this.#leases.has(callId);
  }

  /** The fence this replica holds the call under; 0 when it holds none (yet). */
  fenceOf(callId: string): number {
    return this.#leases.get(callId)?.fence ?? PENDING;
  }

  get size(): number {
    return this.#leases.size;
  }

  /**
   * One batched renewal of every held lease (and an acquire for each pending one). Concurrent
   * calls share the run in progress and schedule one more after it (a reconnect during a renewal).
   */
  renewNow(): Promise<void> {
    if (this.#renewing) {
      this.#again = true;
      return this.#renewing;
    }
    this.#renewing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#renewOnce();
        } while (this.#again);
      } finally {
        this.#renewing = null;
      }
    })();
    return this.#renewing;
  }

  /**
   * Redis came back (a reconnect): renew now, then report every held call for write-back. A renewal
   * that timed out during the outage may still run once the connection returns and re-assert the
   * lease silently, so "the lease was gone" cannot be relied on to be seen; writing back is
   * idempotent and costs one round trip per batch of calls.
   */
  async resync(): Promise<void> {
    await this.renewNow();
    const held = [...this.#leases.values()].filter((l) => l.fence !== PENDING).map((l) => l.callId);
    if (held.length > 0) this.deps.onReasserted?.(held);
  }

  async #renewOnce(): Promise<void> {
    if (this.#leases.size === 0) return;
    const held: Lease[] = [];
    const pending: string[] = [];
    for (const l of this.#leases.values()) {
      if (l.fence === PENDING) pending.push(l.callId);
      else held.push(l);
    }
    const back: string[] = [];
    try {
      const { lost, reasserted } = await this.deps.affinity.renewAll(held);
      for (const callId of lost) {
        if (this.#leases.get(callId)?.fence === PENDING) continue;
        this.#leases.delete(callId);
        this.deps.onLost(callId);
      }
      back.push(...reasserted.filter((id) => this.#leases.has(id)));
      if (reasserted.length > 0) this.log.warn({ calls: reasserted.length }, 'owner leases were gone; re-asserted');
    } catch (err) {
      // Store unreachable: keep the leases and try again next tick; live calls continue from memory.
      this.log.warn({ err, held: this.#leases.size }, 'lease renewal failed');
      return;
    }
    await Promise.all(
      pending.map(async (callId) => {
        try {
          const lease = await this.deps.affinity.acquire(callId, this.cfg.workerId);
          if (!this.#leases.has(callId)) return;
          this.#leases.set(callId, lease);
          back.push(callId);
        } catch (err) {
          this.log.debug({ err, callId }, 'pending owner lease still not taken');
        }
      }),
    );
    if (back.length > 0) this.deps.onReasserted?.(back);
  }
}
