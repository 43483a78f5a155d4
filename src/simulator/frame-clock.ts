// ONE pacing clock for every simulated media stream: a single timer wakes up every few ms, works out
// how many 20 ms ticks are due since start (drift-free, see dueTick) and calls each subscriber once per
// due tick with the same shared timestamp string. Subscribers are plain objects (no closures per frame).
import { FRAME_MS, dueTick } from './frame-math.js';

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

  get tick(): number {
    return this.sent;
  }

  add(sub: TickSubscriber): void {
    this.subs.add(sub);
    if (!this.timer) {
      this.timer = setInterval(() => this.run(), FRAME_MS / 4);
      this.timer.unref();
    }
  }

  remove(sub: TickSubscriber): void {
    this.subs.delete(sub);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.subs.clear();
  }

  private run(): void {
    const due = dueTick(this.startMs, performance.now());
    if (due - this.sent > 1) this.lateTicks += due - this.sent - 1;
    while (this.sent < due) {
      const tick = this.sent++;
      const iso = new Date(this.startEpoch + tick * FRAME_MS).toISOString();
      for (const s of this.subs) s.onTick(tick, iso);
    }
  }
}
