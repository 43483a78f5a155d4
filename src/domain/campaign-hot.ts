// Port: the hot, shared side of campaigns (lease, status cache, counters, control requests), with
// an in-process implementation for a single replica without Redis (and unit tests).
export type LeaseResult = 'held' | 'claimed' | 'taken' | 'released';

export interface CampaignHot {
  /** 'hold' claims a free lease or renews ours; 'release' frees ours. */
  lease(campaignId: string, owner: string, ttlMs: number, mode: 'hold' | 'release'): Promise<LeaseResult>;
  cachedStatus(campaignId: string): Promise<string | null>;
  cacheStatus(campaignId: string, json: string): Promise<void>;
  invalidate(campaignId: string): Promise<void>;
  count(campaignId: string, field: string): Promise<void>;
  counters(campaignId: string): Promise<Record<string, number>>;
  requestControl(campaignId: string, action: string): Promise<void>;
  takeControl(campaignId: string): Promise<string | null>;
}

export class MemoryCampaignHot implements CampaignHot {
  readonly #leases = new Map<string, { owner: string; until: number }>();
  readonly #status = new Map<string, { json: string; until: number }>();
  readonly #counters = new Map<string, Record<string, number>>();
  readonly #control = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  async lease(id: string, owner: string, ttlMs: number, mode: 'hold' | 'release'): Promise<LeaseResult> {
    const cur = this.#leases.get(id);
    const live = cur && cur.until > this.now() ? cur : undefined;
    if (mode === 'release') {
      if (live?.owner === owner) this.#leases.delete(id);
      return 'released';
    }
    if (live && live.owner !== owner) return 'taken';
    this.#leases.set(id, { owner, until: this.now() + ttlMs });
    return live ? 'held' : 'claimed';
  }

  async cachedStatus(id: string): Promise<string | null> {
    const s = this.#status.get(id);
    return s && s.until > this.now() ? s.json : null;
  }

  async cacheStatus(id: string, json: string): Promise<void> {
    this.#status.set(id, { json, until: this.now() + 30_000 });
  }

  async invalidate(id: string): Promise<void> {
    this.#status.delete(id);
  }

  async count(id: string, field: string): Promise<void> {
    const c = this.#counters.get(id) ?? {};
    c[field] = (c[field] ?? 0) + 1;
    this.#counters.set(id, c);
  }

  async counters(id: string): Promise<Record<string, number>> {
    return { ...(this.#counters.get(id) ?? {}) };
  }

  async requestControl(id: string, action: string): Promise<void> {
    this.#control.set(id, action);
  }

  async takeControl(id: string): Promise<string | null> {
    const a = this.#control.get(id) ?? null;
    this.#control.delete(id);
    return a;
  }
}
