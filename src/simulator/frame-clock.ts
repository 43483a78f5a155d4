// ONE pacing clock for every simulated media stream: a single timer wakes up every few ms, works out
// how many 20 ms ticks are due since start (drift-free, see dueTick) and calls each subscriber once per
// due tick with the same shared timestamp string. Subscribers are plain objects (no closures per frame).
// A short delay is caught up; a long one is skipped (see MAX_CATCH_UP) so an overloaded loop cannot spiral.
import { FRAME_MS, dueTick } from './frame-math.js';

/** At most this many ticks are sent back to back when a wake-up is late. */
const MAX_CATCH_UP = 3;

export interface TickSubscriber {
  /** Called once per 20 ms tick; `tick` is the clock's tick index, `isoTime` the tick's ISO timestamp. */
  onTick(tick: number, isoTime: string): void;
}

export class FrameClock {
  private readonly subs = new Set<TickSubscriber>();
  private timer: NodeJS.Timeout | undefined;
  private readonly startMs = performance.now();
  private readonly startEpoch = Date.now();
  private sent = 0;
  /** Ticks that were late by more than one frame period (the timer could not keep up). */
  lateTicks = 0;
  /** Ticks skipped entirely because the loop was more than MAX_CATCH_UP ticks behind. */
  skippedTicks = 0;

  get tick(): number {
    return this.sent;
  }

  add(sub: TickSubscriber): void {
    this.subs.add(sub);
    if (!this.timer) {
      // Resume on the same 20 ms grid without counting the idle time as late ticks.
      this.sent = Math.max(this.sent, dueTick(this.startMs, performance.now()) - 1);
      this.timer = setInterval(() => this.run(), FRAME_MS / 4);
      this.timer.unref();
    }
  }

  remove(sub: TickSubscriber): void {
    this.subs.delete(sub);
    if (this.subs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.subs.clear();
  }

  private run(): void {
    const due = dueTick(this.startMs, performance.now());
    const behind = due - this.sent;
    if (behind > MAX_CATCH_UP) {
      // Too far behind to catch up without a burst (which would only make the next run later still):
      // skip the missed ticks, as a real sender under load would, and count them.
      this.lateTicks += behind - 1;
      this.skippedTicks += behind - 1;
      this.sent = due - 1;
    } else if (behind > 1) this.lateTicks += behind - 1;
    while (this.sent < due) {
      const tick = this.sent++;
      const iso = new Date(this.startEpoch + tick * FRAME_MS).toISOString();
      for (const s of this.subs) s.onTick(tick, iso);
    }
  }
}
