// An outbound campaign (issue 18 item 5) as data, and the pure rules over it: which targets are due,
// what an attempt's outcome does to a target (retry no-answer / busy with back-off, up to
// retries.max), the counts the status route reports, and what a replica taking the campaign over
// does with attempts a dead replica left open. No I/O here: campaign-scheduler.ts drives it.

export type TargetState = 'pending' | 'dialing' | 'connected' | 'completed' | 'no-answer' | 'busy' | 'failed' | 'cancelled';
export type CampaignStatus = 'running' | 'paused' | 'cancelled' | 'completed';
/** How one attempt ended. */
export type AttemptOutcome = 'completed' | 'no-answer' | 'busy' | 'failed';

export interface CampaignSpec {
  readonly id: string;
  readonly tenant: string;
  /** E.164 numbers; never logged in clear. */
  readonly targets: readonly string[];
  /** Epoch ms: no call is placed outside [start, end). */
  readonly window: { readonly start: number; readonly end: number };
  readonly ratePerMinute: number;
  readonly concurrency: number;
  /** Retries after the first attempt, for no-answer and busy only; backoffMs doubles each retry. */
  readonly retries: { readonly max: number; readonly backoffMs: number };
}

export interface CampaignTarget {
  readonly index: number;
  readonly number: string;
  state: TargetState;
  attempts: number;
  /** Epoch ms of the next attempt (pending, or a no-answer / busy still to be retried); null: final. */
  retryAt: number | null;
  /** The worker's call id of the last attempt (archive key). */
  callId: string | null;
}

export interface Campaign {
  readonly spec: CampaignSpec;
  status: CampaignStatus;
  readonly targets: CampaignTarget[];
  readonly createdAt: number;
  updatedAt: number;
}

export type CampaignCounts = Record<TargetState, number> & { readonly total: number; readonly attempts: number };

export function newCampaign(spec: CampaignSpec, now: number): Campaign {
  return {
    spec,
    status: 'running',
    targets: spec.targets.map((number, index) => ({ index, number, state: 'pending', attempts: 0, retryAt: spec.window.start, callId: null })),
    createdAt: now,
    updatedAt: now,
  };
}

/** Targets whose next attempt is due at `now`, in order (the caller takes as many as it has room for). */
export function dueTargets(c: Campaign, now: number): CampaignTarget[] {
  if (c.status !== 'running' || now < c.spec.window.start || now >= c.spec.window.end) return [];
  return c.targets.filter((t) => t.retryAt !== null && t.retryAt <= now && (t.state === 'pending' || t.state === 'no-answer' || t.state === 'busy'));
}

/** The earliest time anything becomes due (null: nothing left to dial). */
export function nextDueAt(c: Campaign): number | null {
  let next: number | null = null;
  for (const t of c.targets) if (t.retryAt !== null && (t.state === 'pending' || t.state === 'no-answer' || t.state === 'busy')) next = next === null ? t.retryAt : Math.min(next, t.retryAt);
  return next === null ? null : Math.max(next, c.spec.window.start);
}

export function startAttempt(c: Campaign, t: CampaignTarget, now: number): void {
  t.state = 'dialing';
  t.attempts++;
  t.retryAt = null;
  c.updatedAt = now;
}

export function attemptConnected(c: Campaign, t: CampaignTarget, callId: string, now: number): void {
  t.callId = callId;
  if (t.state === 'dialing') t.state = 'connected';
  c.updatedAt = now;
}

/** An attempt ended: final, or (no-answer / busy with retries left) retried after the back-off. */
export function attemptEnded(c: Campaign, t: CampaignTarget, outcome: AttemptOutcome, now: number, callId?: string): void {
  if (callId) t.callId = callId;
  t.state = c.status === 'cancelled' && outcome !== 'completed' ? 'cancelled' : outcome;
  const retryable = (outcome === 'no-answer' || outcome === 'busy') && t.attempts <= c.spec.retries.max && c.status !== 'cancelled';
  t.retryAt = retryable ? now + c.spec.retries.backoffMs * 2 ** (t.attempts - 1) : null;
  c.updatedAt = now;
  if (c.status === 'running' && isDone(c)) c.status = 'completed';
}

export function isDone(c: Campaign): boolean {
  return c.targets.every((t) => t.retryAt === null && t.state !== 'dialing' && t.state !== 'connected' && t.state !== 'pending');
}

export function pause(c: Campaign, now: number): boolean {
  if (c.status !== 'running') return false;
  c.status = 'paused';
  c.updatedAt = now;
  return true;
}

export function resume(c: Campaign, now: number): boolean {
  if (c.status !== 'paused') return false;
  c.status = 'running';
  c.updatedAt = now;
  return true;
}

/** Nothing more is dialed; calls in progress finish (and are archived). */
export function cancel(c: Campaign, now: number): boolean {
  if (c.status === 'cancelled' || c.status === 'completed') return false;
  c.status = 'cancelled';
  for (const t of c.targets) {
    if (t.state === 'pending' || ((t.state === 'no-answer' || t.state === 'busy') && t.retryAt !== null)) {
      t.state = 'cancelled';
      t.retryAt = null;
    }
  }
  c.updatedAt = now;
  return true;
}

/**
 * A replica takes over a campaign whose owner died: attempts it left 'dialing' never reported a
 * call (the createCall may or may not have reached ACS) and are dialed again (the attempt counts);
 * 'connected' ones were answered: their call is finalized and archived by whichever replica holds
 * it, so they count as completed here.
 */
export function adoptOrphans(c: Campaign, now: number): number {
  let n = 0;
  for (const t of c.targets) {
    if (t.state === 'dialing') {
      t.state = 'pending';
      t.retryAt = now;
      n++;
    } else if (t.state === 'connected') {
      t.state = 'completed';
      n++;
    }
  }
  if (n > 0) c.updatedAt = now;
  if (c.status === 'running' && isDone(c)) c.status = 'completed';
  return n;
}

export function countsOf(c: Campaign): CampaignCounts {
  const counts: Record<TargetState, number> = { pending: 0, dialing: 0, connected: 0, completed: 0, 'no-answer': 0, busy: 0, failed: 0, cancelled: 0 };
  let attempts = 0;
  for (const t of c.targets) {
    counts[t.state]++;
    attempts += t.attempts;
  }
  return { ...counts, total: c.targets.length, attempts };
}
