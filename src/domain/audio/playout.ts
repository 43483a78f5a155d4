// Paced outbound audio for every call on the replica: ONE scheduler, one timer aligned to a grid of
// tickMs (a multiple of the 20 ms frame) on the monotonic clock. Each tick sends every 20 ms frame due
// before the next tick (leadMs ahead), in one write per socket (the sink's cork/uncork), catches up when the timer
// ran late (at most maxBurst frames per call per tick), and re-anchors a call that fell further behind
// than maxLagMs instead of bursting. A socket whose send buffer is over the limit is paused (counted),
// never queued without bound.
import type { PlayoutChannel } from './playout-channel.js';

export interface PlayoutClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs fn after delayMs; returns a cancel function. */
  schedule(fn: () => void, delayMs: number): () => void;
}

export interface PlayoutConfig {
  readonly frameMs: number;
  /**
   * Wake-up period, a multiple of frameMs (default: frameMs). With 40 ms, each wake-up sends a call's
   * next two frames in one socket write: half the send system calls, each costing more than handling
   * an inbound frame, for 20 ms more lead (leadMs must cover tickMs).
   */
  readonly tickMs?: number;
  /** Frames one call may send in one tick while catching up. */
  readonly maxBurst: number;
  /** Behind by more than this after a tick: re-anchor the call's schedule to now. */
  readonly maxLagMs: number;
  /** Pause a call while its socket holds more than this many unsent bytes. */
  readonly maxBufferedBytes: number;
  /**
   * Frames due within this many ms are sent now: a standing lead (ACS buffers outbound audio) that
   * absorbs event-loop stalls up to its size and timers firing ~1 ms early. playedMs may run ahead of
   * what the caller has heard by at most this much.
   */
  readonly leadMs: number;
}

export const DEFAULT_PLAYOUT: PlayoutConfig = { frameMs: 20, maxBurst: 3, maxLagMs: 60, maxBufferedBytes: 64 * 1024, leadMs: 20 };

export interface PlayoutHooks {
  /** Lateness of one sent frame against its due time, ms. */
  onFrameSent(latenessMs: number): void;
  /** A call's socket was over its buffer limit (once per episode). */
  onSlowSocket(): void;
  /** A call fell behind by more than maxLagMs and was re-anchored. */
  onResync(): void;
}

export class PlayoutScheduler {
  readonly #active = new Set<PlayoutChannel>();
  readonly #origin: number;
  readonly #tickMs: number;
  #cancel: (() => void) | null = null;
  #stopped = false;
  #inTick = false;
  ticks = 0;

  constructor(
    private readonly clock: PlayoutClock,
    readonly cfg: PlayoutConfig,
    readonly hooks: PlayoutHooks,
  ) {
    this.#origin = clock.now();
    this.#tickMs = cfg.tickMs ?? cfg.frameMs;
    if (this.#tickMs % cfg.frameMs !== 0 || cfg.leadMs < this.#tickMs - cfg.frameMs) throw new RangeError('tickMs must be a multiple of frameMs, covered by leadMs');
  }

  /** Channels with something to send. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** A channel has frames to send: an idle one starts at once, then every wake-up serves it. */
  activate(ch: PlayoutChannel): void {
    if (this.#stopped) return;
    if (!this.#active.has(ch) && !this.#inTick) {
      // A channel that was idle starts now rather than at the next wake-up (up to tickMs away): its
      // first frames leave at once, on the same grid, never ahead by more than leadMs.
      const now = this.clock.now();
      if (!ch.pump(now, this.#slot(now), this)) return;
    }
    this.#active.add(ch);
    if (!this.#cancel && !this.#inTick) this.#arm();
  }

  deactivate(ch: PlayoutChannel): void {
    this.#active.delete(ch);
  }

  /** The grid time of the slot at or before now. */
  gridNow(now: number): number {
    const f = this.cfg.frameMs;
    return this.#origin + Math.floor((now - this.#origin) / f) * f;
  }

  /** One pass over the active channels. Public so tests can drive it with a fake clock. */
  tick(): void {
    this.#cancel = null;
    this.ticks++;
    const now = this.clock.now();
    const slot = this.#slot(now);
    this.#inTick = true;
    try {
      for (const ch of this.#active) {
        if (!ch.pump(now, slot, this)) this.#active.delete(ch);
      }
    } finally {
      this.#inTick = false;
    }
    if (this.#active.size > 0 && !this.#stopped) this.#arm();
  }

  /**
   * The first due time of a channel that starts at `now`: the earliest one this wake-up is responsible
   * for (with tickMs = frameMs, the slot leadMs ahead; with longer ticks, earlier by the extra frames).
   */
  #slot(now: number): number {
    return this.gridNow(now + this.cfg.leadMs - this.#tickMs + this.cfg.frameMs);
  }

  #arm(): void {
    const now = this.clock.now();
    const t = this.#tickMs;
    const next = this.#origin + (Math.floor((now - this.#origin) / t) + 1) * t;
    this.#cancel = this.clock.schedule(() => this.tick(), Math.max(0, Math.ceil(next - now)));
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = null;
    this.#active.clear();
  }
}
