// Campaigns on this replica (issue 18 item 5): creates them (durable first), drives those whose lease
// it holds (one CampaignScheduler each), renews the leases, applies pause / resume / cancel (asked
// here, or on another replica and left in Redis for the driver), and takes over campaigns whose
// driver died: every sweep it lists unfinished campaigns in Cosmos, claims any free lease, adopts the
// attempts the dead replica left open (campaign.ts adoptOrphans) and carries on from the stored state.
// Status: cached 30 s in Redis, deleted after every saved change (the saving store below).
import { maskRawId } from './event-grid.js';
import { adoptOrphans, cancel, countsOf, newCampaign, pause, resume, type Campaign, type CampaignSpec } from '../domain/campaign.js';
import type { CampaignHot } from '../domain/campaign-hot.js';
import { CampaignScheduler, type CampaignDialer, type CampaignSlots, type CampaignStore } from '../domain/campaign-scheduler.js';
import type { Logger } from '../logger.js';

export type CampaignAction = 'pause' | 'resume' | 'cancel';

export interface CampaignServiceDeps {
  readonly store: CampaignStore & { unfinished(): Promise<string[]> };
  readonly hot: CampaignHot;
  readonly slots: CampaignSlots;
  readonly dialer: CampaignDialer;
  readonly now: () => number;
  readonly log: Logger;
}

export interface CampaignServiceConfig {
  readonly workerId: string;
  readonly leaseMs: number;
}

export function statusOf(c: Campaign, hot: Record<string, number>): Record<string, unknown> {
  return {
    id: c.spec.id,
    tenant: c.spec.tenant,
    status: c.status,
    window: c.spec.window,
    ratePerMinute: c.spec.ratePerMinute,
    concurrency: c.spec.concurrency,
    retries: c.spec.retries,
    counts: countsOf(c),
    hot,
    // Numbers masked: the status is for operators, who have the list they uploaded.
    targets: c.targets.map((t) => ({ index: t.index, number: maskRawId(`4:${t.number}`, 'phoneNumber'), state: t.state, attempts: t.attempts, callId: t.callId })),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export class CampaignService {
  readonly #running = new Map<string, CampaignScheduler>();
  readonly #store: CampaignStore;
  #timer: NodeJS.Timeout | null = null;
  #ticking = false;

  constructor(
    private readonly deps: CampaignServiceDeps,
    private readonly cfg: CampaignServiceConfig,
  ) {
    const { store, hot, log } = deps;
    this.#store = {
      load: (id) => store.load(id),
      save: async (c) => {
        await store.save(c);
        await hot.invalidate(c.spec.id).catch((err: unknown) => log.warn({ err, campaignId: c.spec.id }, 'campaign status cache not invalidated'));
      },
    };
  }

  /** Campaigns this replica drives. */
  get driving(): number {
    return this.#running.size;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.cfg.leaseMs / 3)));
    this.#timer.unref();
  }

  /** Stops driving (shutdown): leases are released so another replica resumes at once. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const all = [...this.#running.values()];
    for (const s of all) s.stop();
    await Promise.all(all.map((s) => s.done));
  }

  async create(spec: CampaignSpec): Promise<Campaign> {
    if ((await this.deps.store.load(spec.id)) !== null) throw Object.assign(new Error('campaign exists'), { conflict: true });
    const c = newCampaign(spec, this.deps.now());
    await this.#store.save(c);
    if ((await this.deps.hot.lease(spec.id, this.cfg.workerId, this.cfg.leaseMs, 'hold')) !== 'taken') this.#drive(c);
    return c;
  }

  async status(id: string): Promise<{ body: Record<string, unknown>; source: 'cache' | 'memory' | 'store' } | null> {
    const cached = await this.deps.hot.cachedStatus(id).catch(() => null);
    if (cached) return { body: JSON.parse(cached) as Record<string, unknown>, source: 'cache' };
    const local = this.#running.get(id)?.campaign;
    const c = local ?? (await this.deps.store.load(id));
    if (!c) return null;
    const body = statusOf(c, await this.deps.hot.counters(id).catch(() => ({})));
    await this.deps.hot.cacheStatus(id, JSON.stringify(body)).catch(() => undefined);
    return { body, source: local ? 'memory' : 'store' };
  }

  /** Applies an action; 'forwarded': another replica drives the campaign and applies it on its next lease renewal. */
  async control(id: string, action: CampaignAction): Promise<'applied' | 'unchanged' | 'forwarded' | 'not-found'> {
    const s = this.#running.get(id);
    if (s) {
      if (!this.#apply(s, action)) return 'unchanged';
      // Answered once stored (and the cached status dropped): the next status read shows it.
      await s.flushed();
      return 'applied';
    }
    const c = await this.deps.store.load(id);
    if (!c) return 'not-found';
    if (c.status === 'completed' || c.status === 'cancelled') return 'unchanged';
    await this.deps.hot.requestControl(id, action);
    return 'forwarded';
  }

  #apply(s: CampaignScheduler, action: CampaignAction): boolean {
    const now = this.deps.now();
    const changed = action === 'pause' ? pause(s.campaign, now) : action === 'resume' ? resume(s.campaign, now) : cancel(s.campaign, now);
    if (changed) {
      this.deps.log.info({ campaignId: s.campaign.spec.id, action }, 'campaign control applied');
      s.poke();
    }
    return changed;
  }

  #drive(c: Campaign): void {
    const id = c.spec.id;
    const s = new CampaignScheduler(
      {
        store: this.#store,
        slots: this.deps.slots,
        dialer: this.deps.dialer,
        observer: { changed: (_c, event) => void this.deps.hot.count(id, event).catch(() => undefined) },
        now: this.deps.now,
        log: this.deps.log,
      },
      c,
    );
    this.#running.set(id, s);
    this.deps.log.info({ campaignId: id, targets: c.targets.length }, 'driving campaign');
    void s.done.then(async () => {
      this.#running.delete(id);
      await this.deps.hot.lease(id, this.cfg.workerId, this.cfg.leaseMs, 'release').catch(() => undefined);
      this.deps.log.info({ campaignId: id, status: c.status }, 'campaign no longer driven here');
    });
  }

  /** Renews our leases (losing one stops its scheduler), applies forwarded actions, takes over orphans. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      for (const [id, s] of this.#running) {
        const r = await this.deps.hot.lease(id, this.cfg.workerId, this.cfg.leaseMs, 'hold').catch(() => 'held' as const);
        if (r === 'taken') {
          this.deps.log.warn({ campaignId: id }, 'campaign lease taken by another replica; stopping here');
          s.stop();
          continue;
        }
        const action = await this.deps.hot.takeControl(id).catch(() => null);
        if (action === 'pause' || action === 'resume' || action === 'cancel') this.#apply(s, action);
      }
      const ids = await this.deps.store.unfinished().catch(() => [] as string[]);
      for (const id of ids) {
        if (this.#running.has(id)) continue;
        if ((await this.deps.hot.lease(id, this.cfg.workerId, this.cfg.leaseMs, 'hold').catch(() => 'taken' as const)) !== 'claimed') continue;
        const c = await this.deps.store.load(id);
        if (!c || c.status === 'completed' || c.status === 'cancelled') {
          await this.deps.hot.lease(id, this.cfg.workerId, this.cfg.leaseMs, 'release').catch(() => undefined);
          continue;
        }
        const adopted = adoptOrphans(c, this.deps.now());
        this.deps.log.warn({ campaignId: id, adopted }, 'taking over a campaign whose driver is gone');
        await this.#store.save(c);
        this.#drive(c);
      }
    } finally {
      this.#ticking = false;
    }
  }
}
