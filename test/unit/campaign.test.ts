// Issue 18 item 5: the campaign rules (campaign.ts) and the scheduler over fakes of its ports.
import { describe, expect, it } from 'vitest';
import { adoptOrphans, attemptEnded, cancel, countsOf, dueTargets, newCampaign, pause, resume, startAttempt, type CampaignSpec } from '../../src/domain/campaign.js';
import { CampaignScheduler, type CampaignDialer } from '../../src/domain/campaign-scheduler.js';

const spec = (o: Partial<CampaignSpec> = {}): CampaignSpec => ({
  id: 'c1',
  tenant: 'acme',
  targets: ['+14255550001', '+14255550002', '+14255550003'],
  window: { start: 1_000, end: 100_000 },
  ratePerMinute: 60_000,
  concurrency: 2,
  retries: { max: 2, backoffMs: 100 },
  ...o,
});
const log = { warn: () => undefined, info: () => undefined };

describe('campaign rules', () => {
  it('dials only inside the window and only while running', () => {
    const c = newCampaign(spec(), 0);
    expect(dueTargets(c, 500)).toHaveLength(0);
    expect(dueTargets(c, 1_000)).toHaveLength(3);
    expect(dueTargets(c, 100_000)).toHaveLength(0);
    pause(c, 2_000);
    expect(dueTargets(c, 2_000)).toHaveLength(0);
    resume(c, 2_000);
    expect(dueTargets(c, 2_000)).toHaveLength(3);
  });

  it('retries busy / no-answer with a doubling back-off up to retries.max, never a failure', () => {
    const c = newCampaign(spec(), 0);
    const [a, b] = c.targets as [NonNullable<(typeof c.targets)[0]>, NonNullable<(typeof c.targets)[0]>];
    startAttempt(c, a, 1_000);
    attemptEnded(c, a, 'busy', 1_000);
    expect(a.retryAt).toBe(1_100);
    startAttempt(c, a, 1_100);
    attemptEnded(c, a, 'no-answer', 1_100);
    expect(a.retryAt).toBe(1_300);
    startAttempt(c, a, 1_300);
    attemptEnded(c, a, 'busy', 1_300);
    expect(a).toMatchObject({ state: 'busy', attempts: 3, retryAt: null });
    startAttempt(c, b, 1_000);
    attemptEnded(c, b, 'failed', 1_000);
    expect(b).toMatchObject({ state: 'failed', retryAt: null });
  });

  it('cancel stops what is not dialing; a campaign left mid-attempt is adopted on takeover', () => {
    const c = newCampaign(spec(), 0);
    const [a, b] = c.targets as [NonNullable<(typeof c.targets)[0]>, NonNullable<(typeof c.targets)[0]>];
    startAttempt(c, a, 1_000);
    startAttempt(c, b, 1_000);
    b.state = 'connected';
    expect(adoptOrphans(c, 2_000)).toBe(2);
    expect(a).toMatchObject({ state: 'pending', attempts: 1, retryAt: 2_000 });
    expect(b.state).toBe('completed');
    cancel(c, 3_000);
    expect(countsOf(c)).toMatchObject({ cancelled: 2, completed: 1 });
    expect(c.status).toBe('cancelled');
  });
});

describe('campaign scheduler', () => {
  it('never has more than `concurrency` attempts open, takes a slot for each and completes the campaign', async () => {
    let open = 0;
    let peak = 0;
    const reserved: string[] = [];
    const dialer: CampaignDialer = {
      place: async (req, onConnected) => {
        open++;
        peak = Math.max(peak, open);
        onConnected(`call-${req.targetIndex}`);
        await new Promise((r) => setTimeout(r, 10));
        open--;
        return { outcome: 'completed', callId: `call-${req.targetIndex}` };
      },
    };
    const c = newCampaign(spec({ targets: Array.from({ length: 12 }, (_, i) => `+1425555${String(i).padStart(4, '0')}`), window: { start: 0, end: Date.now() + 60_000 }, concurrency: 3 }), 0);
    const saved: string[] = [];
    const s = new CampaignScheduler(
      {
        store: { load: async () => null, save: async (x) => void saved.push(x.status) },
        slots: { reserveWaiting: async (claim) => (reserved.push(claim), { admitted: true }), releaseClaim: async () => undefined },
        dialer,
        now: Date.now,
        log,
      },
      c,
    );
    await s.done;
    expect(c.status).toBe('completed');
    expect(peak).toBe(3);
    expect(reserved).toHaveLength(12);
    expect(saved.at(-1)).toBe('completed');
  });
});
