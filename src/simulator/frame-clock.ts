// ONE pacing clock for every simulated media stream. Streams are spread over PHASES groups; the 20 ms
// period is cut into PHASES slots of FRAME_MS / PHASES and each slot drives one group, so a wake-up
// writes a quarter of the streams' frames instead of all of them at once (the loop never blocks for a
// whole tick's worth of sockets, and the worker receives an even stream rather than a 1,000-frame burst
// every 20 ms, as it does from real calls that started at unrelated times). Each stream still gets one
// frame every 20 ms, timestamped with its slot's time (drift-free: due slots follow from elapsed time).
// A short delay is caught up; a long one is skipped (see MAX_CATCH_UP) so an overloaded loop cannot spiral.
// Subscribers are plain objects called with one shared, reused ClockTick (no allocation per frame).
import { FRAME_MS, dueTick } from './frame-math.js';

/** Slots per 20 ms period (the wake-up interval is FRAME_MS / PHASES). */
export const DEFAULT_PHASES = 4;
/** At most this many periods of slots are sent back to back when a wake-up is late. */
const MAX_CATCH_UP = 3;

/** The slot being driven. One object, overwritten per slot: read it during onTick, do not keep it. */
export interface ClockTick {
  /** Period index: consecutive for one subscriber, one per 20 ms. */
  tick: number;
  /** Slot index: tick * phases + phase. */
  slot: number;
  /** The slot's time, epoch ms (equal times mean equal `iso`: a cache key for per-slot frames). */
  atMs: number;
  /** The slot's time as ISO 8601 (always 24 characters). */
  iso: string;
}

export interface TickSubscriber {
  onTick(t: ClockTick): void;
}

export class FrameClock {
  private readonly groups: Set<TickSubscriber>[] = [];
  private readonly groupOf = new Map<TickSubscriber, Set<TickSubscriber>>();
  private readonly slotMs: number;
  private readonly current: ClockTick = { tick: 0, slot: 0, atMs: 0, iso: '' };
  private timer: NodeJS.Timeout | undefined;
  private readonly startMs = performance.now();
  private readonly startEpoch = Date.now();
  /** Slots already driven (the next one to drive). */
  private sent = 0;
  private lateSlots = 0;
  private skippedSlots = 0;
  /** Largest delay seen between a slot's due time and the moment it was driven (ms). */
  maxLagMs = 0;

  constructor(readonly phases = DEFAULT_PHASES) {
    for (let i = 0; i < phases; i++) this.groups.push(new Set());
    this.slotMs = FRAME_MS / phases;
  }

  /** Periods in which some group ran more than one frame late (the timer could not keep up). */
  get lateTicks(): number {
    return Math.ceil(this.lateSlots / this.phases);
  }

  /** Periods skipped entirely because the loop was more than MAX_CATCH_UP periods behind. */
  get skippedTicks(): number {
    return Math.ceil(this.skippedSlots / this.phases);
  }

  get size(): number {
    return this.groupOf.size;
  }

  /** Adds a subscriber to the least loaded group. */
  add(sub: TickSubscriber): void {
    if (this.groupOf.has(sub)) return;
    let group = this.groups[0] as Set<TickSubscriber>;
    for (const g of this.groups) if (g.size < group.size) group = g;
    group.add(sub);
    this.groupOf.set(sub, group);
    if (!this.timer) {
      // Resume on the same grid without counting the idle time as late slots.
      this.sent = Math.max(this.sent, dueTick(this.startMs, performance.now(), this.slotMs) - 1);
      this.timer = setInterval(() => this.run(), this.slotMs);
      this.timer.unref();
    }
  }

  remove(sub: TickSubscriber): void {
    const g = this.groupOf.get(sub);
    if (!g) return;
    g.delete(sub);
    this.groupOf.delete(sub);
    if (this.groupOf.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const g of this.groups) g.clear();
    this.groupOf.clear();
  }

  private run(): void {
    const now = performance.now();
    const due = dueTick(this.startMs, now, this.slotMs);
    const behind = due - this.sent;
    if (behind <= 0) return;
    const lag = now - (this.startMs + this.sent * this.slotMs);
    if (lag > this.maxLagMs) this.maxLagMs = lag;
    if (behind > MAX_CATCH_UP * this.phases) {
      // Too far behind to catch up without a burst (which would only make the next run later still):
      // skip to the last period's slots, as a real sender under load would, and count what was missed.
      const skip = behind - this.phases;
      this.lateSlots += skip;
      this.skippedSlots += skip;
      this.sent += skip;
    } else if (behind > this.phases) this.lateSlots += behind - this.phases;
    const t = this.current;
    while (this.sent < due) {
      const slot = this.sent++;
      t.slot = slot;
      t.tick = Math.floor(slot / this.phases);
      t.atMs = this.startEpoch + slot * this.slotMs;
      t.iso = new Date(t.atMs).toISOString();
      for (const s of this.groups[slot % this.phases] as Set<TickSubscriber>) s.onTick(t);
    }
  }
}
