// Drives one campaign on the replica that holds its lease: places due targets while fewer than
// `concurrency` attempts are open and the campaign's own rate allows (one start every
// 60 000 / ratePerMinute ms), each attempt first taking a call slot through the admission
// (reserveWaiting: the tenant cap, the global cap and the global rate shared with inbound calls),
// then placing the call; the slot is confirmed with the call id by the dialer and freed when the call
// is finalized (or here, if the call never got placed). Every state change is saved (durable) and
// announced (hot counters, status cache invalidation). Pure of I/O: the ports below.
import { randomUUID } from 'node:crypto';
import {
  attemptConnected,
  attemptEnded,
  dueTargets,
  nextDueAt,
  startAttempt,
  type AttemptOutcome,
  type Campaign,
  type CampaignTarget,
} from './campaign.js';

export interface CampaignStore {
  load(id: string): Promise<Campaign | null>;
  save(c: Campaign): Promise<void>;
}

export interface CampaignSlots {
  reserveWaiting(claimId: string, tenantId: string, opts: { maxWaitMs: number; signal?: AbortSignal }): Promise<{ readonly admitted: boolean }>;
  releaseClaim(claimId: string): Promise<void>;
}

export interface PlaceRequest {
  readonly claimId: string;
  readonly campaignId: string;
  readonly tenant: string;
  readonly target: string;
  readonly targetIndex: number;
  readonly attempt: number;
}

/** Places one call and resolves when it is over (finalized, or failed before connecting). */
export interface CampaignDialer {
  place(req: PlaceRequest, onConnected: (callId: string) => void): Promise<{ readonly outcome: AttemptOutcome; readonly callId: string | null }>;
}

export interface CampaignObserver {
  changed(c: Campaign, event: 'attempt' | 'connected' | 'ended' | 'status'): void;
}

export interface SchedulerDeps {
  readonly store: CampaignStore;
  readonly slots: CampaignSlots;
  readonly dialer: CampaignDialer;
  readonly observer?: CampaignObserver;
  readonly now: () => number;
  readonly log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** How long an attempt waits for a call slot before it is put back (ms). */
const SLOT_WAIT_MS = 30_000;
const SLOT_RETRY_MS = 500;

export class CampaignScheduler {
  #open = 0;
  #lastStart = -Infinity;
  #stopped = false;
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #saving: Promise<void> = Promise.resolve();
  readonly #abort = new AbortController();
  readonly done: Promise<void>;

  constructor(
    private readonly deps: SchedulerDeps,
    readonly campaign: Campaign,
  ) {
    this.done = this.#loop();
  }

  /** Attempts in progress. */
  get open(): number {
    return this.#open;
  }

  /** Something changed (pause / resume / cancel applied to `campaign`): saved, then re-evaluated. Resolves once saved. */
  poke(): Promise<void> {
    this.deps.observer?.changed(this.campaign, 'status');
    const saved = this.#save();
    this.#wakeUp();
    return saved;
  }

  /** Stops placing calls here (the lease moved, or shutdown); open attempts run to their end. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#wakeUp();
  }

  /** Resolves once every save issued so far is stored. */
  flushed(): Promise<void> {
    return this.#saving;
  }

  async #loop(): Promise<void> {
    const c = this.campaign;
    for (;;) {
      if (this.#stopped) break;
      if ((c.status === 'completed' || c.status === 'cancelled') && this.#open === 0) break;
      const now = this.deps.now();
      const gap = 60_000 / Math.max(1e-9, c.spec.ratePerMinute);
      let waitMs = 1_000;
      if (c.status === 'running') {
        for (const t of dueTargets(c, now)) {
          if (this.#open >= c.spec.concurrency) break;
          const since = this.deps.now() - this.#lastStart;
          if (since < gap) {
            waitMs = Math.min(waitMs, gap - since);
            break;
          }
          this.#launch(t);
        }
        const next = nextDueAt(c);
        if (next !== null && this.#open < c.spec.concurrency) waitMs = Math.min(waitMs, Math.max(1, next - this.deps.now()));
      }
      await this.#sleep(waitMs);
    }
    await this.#saving;
  }

  #launch(t: CampaignTarget): void {
    const c = this.campaign;
    this.#open++;
    this.#lastStart = this.deps.now();
    startAttempt(c, t, this.#lastStart);
    this.deps.observer?.changed(c, 'attempt');
    void this.#save();
    void this.#attempt(t).finally(() => {
      this.#open--;
      this.#wakeUp();
    });
  }

  async #attempt(t: CampaignTarget): Promise<void> {
    const c = this.campaign;
    const claimId = `cmp:${c.spec.id}:${t.index}:${t.attempts}:${randomUUID().slice(0, 8)}`;
    let admitted = false;
    try {
      admitted = (await this.deps.slots.reserveWaiting(claimId, c.spec.tenant, { maxWaitMs: SLOT_WAIT_MS, signal: this.#abort.signal })).admitted;
    } catch (err) {
      this.deps.log.warn({ err, campaignId: c.spec.id }, 'call slot not reserved');
    }
    if (!admitted) {
      // No slot (or stopped): the attempt did not happen; the target waits for the next round.
      await this.deps.slots.releaseClaim(claimId).catch(() => undefined);
      t.state = 'pending';
      t.attempts--;
      t.retryAt = this.deps.now() + SLOT_RETRY_MS;
      void this.#save();
      return;
    }
    let result: { outcome: AttemptOutcome; callId: string | null };
    try {
      result = await this.deps.dialer.place(
        { claimId, campaignId: c.spec.id, tenant: c.spec.tenant, target: t.number, targetIndex: t.index, attempt: t.attempts },
        (callId) => {
          attemptConnected(c, t, callId, this.deps.now());
          this.deps.observer?.changed(c, 'connected');
          void this.#save();
        },
      );
    } catch (err) {
      this.deps.log.warn({ err, campaignId: c.spec.id, target: t.index }, 'call not placed');
      result = { outcome: 'failed', callId: null };
    }
    // Freed at finalization by the call's own path; this covers a call that was never placed.
    await this.deps.slots.releaseClaim(claimId).catch(() => undefined);
    attemptEnded(c, t, result.outcome, this.deps.now(), result.callId ?? undefined);
    this.deps.observer?.changed(c, 'ended');
    await this.#save();
  }

  /**
   * Saves run one after another (the store sees every state in order). Once stopped (lease lost or
   * released) nothing more is saved from here: the document belongs to the replica that claims the
   * lease next, which adopts what this one left open (adoptOrphans). Not fenced in Cosmos (no etag
   * check yet): a save already in flight at stop() can still land.
   */
  #save(): Promise<void> {
    if (this.#stopped) return this.#saving;
    this.#saving = this.#saving.then(() =>
      this.deps.store.save(this.campaign).catch((err: unknown) => this.deps.log.warn({ err, campaignId: this.campaign.spec.id }, 'campaign state not saved')),
    );
    return this.#saving;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      this.#wake = r;
      this.#timer = setTimeout(() => this.#wakeUp(), ms);
    });
  }

  #wakeUp(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}
