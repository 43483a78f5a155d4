// Holds the owner leases of every call on this replica and renews them all in one batch on one
// timer (not a timer per call). A lease found lost (another replica took the call) is reported.
import type { AffinityStore, Lease } from './ports.js';
import type { DomainLogger } from './live-call.js';

export interface LeaseKeeperConfig {
  readonly workerId: string;
  /** Lease TTL in seconds; renewals run every third of it. */
  readonly leaseSeconds: number;
}

export class LeaseKeeper {
  readonly #leases = new Map<string, Lease>();
  #timer: NodeJS.Timeout | null = null;
  #renewing = false;

  constructor(
    private readonly deps: { affinity: AffinityStore; onLost: (callId: string) => void },
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

  /** Takes ownership of a call (new fence). */
  async hold(callId: string): Promise<Lease> {
    const lease = await this.deps.affinity.acquire(callId, this.cfg.workerId);
    this.#leases.set(callId, lease);
    return lease;
  }

  async drop(callId: string): Promise<void> {
    const lease = this.#leases.get(callId);
    if (!lease) return;
    this.#leases.delete(callId);
    try {
      await this.deps.affinity.release(lease);
    } catch (err) {
      this.log.warn({ err, callId }, 'lease release failed (it will expire)');
    }
  }

  holds(callId: string): boolean {
    return this.#leases.has(callId);
  }

  get size(): number {
    return this.#leases.size;
  }

  /** One batched renewal of every held lease. */
  async renewNow(): Promise<void> {
    if (this.#renewing || this.#leases.size === 0) return;
    this.#renewing = true;
    try {
      const lost = await this.deps.affinity.renewAll([...this.#leases.values()]);
      for (const callId of lost) {
        this.#leases.delete(callId);
        this.deps.onLost(callId);
      }
    } catch (err) {
      // Store unreachable: keep the leases and try again next tick; live calls continue from memory.
      this.log.warn({ err, held: this.#leases.size }, 'lease renewal failed');
    } finally {
      this.#renewing = false;
    }
  }
}
