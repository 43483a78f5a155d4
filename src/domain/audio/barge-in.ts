// Barge-in without false alarms and without lost replies. While the agent is audible, a run of
// `onsetFrames` consecutive caller frames above the echo gate (echo-gate.ts) PAUSES playout at once:
// stopAudio goes out on the frame that completes the run (energy needs no look-ahead, unlike a
// VAD that waits for voicing). Then, while paused:
//   - words from the caller (a transcript, intermediate or final) or a tone confirm the barge-in:
//     the reply is dropped and the turn cancelled (MediaSession.bargeIn);
//   - a short noise or a backchannel ("uh-huh", a cough) brings no words: once `resumeAfterMs` have
//     passed since the pause and the caller has been quiet for `resumeQuietMs`, playout resumes from
//     where the caller stopped hearing it (playout-channel.ts rewinds what was sent ahead).
// Driven by the inbound frames themselves (ACS streams one every 20 ms, silence included): no timer,
// no allocation per frame.

export interface BargeInConfig {
  /** Consecutive frames above the gate that pause the agent. */
  readonly onsetFrames: number;
  /** A pause without words lasts at least this long before playout resumes, ms. */
  readonly resumeAfterMs: number;
  /** ...and the caller must have been quiet (no frame above the gate) this long, ms. */
  readonly resumeQuietMs: number;
}

export const DEFAULT_BARGE_IN: BargeInConfig = { onsetFrames: 2, resumeAfterMs: 600, resumeQuietMs: 300 };

export type BargeInAction = 'pause' | 'resume' | null;

/** What one detection measured (arrival times, monotonic ms). */
export interface BargeInOnset {
  /** Arrival of the first frame of the run that paused the agent. */
  firstVoicedAt: number;
  /** Arrival of the frame that completed the run. */
  detectedAt: number;
  /** Frames in the run (onsetFrames). */
  frames: number;
}

export class BargeInDetector {
  readonly cfg: BargeInConfig;
  #run = 0;
  #runStart = 0;
  #pausedAt = -1;
  #lastVoicedAt = -1;
  /** The last detection (mutated in place: read it right after push() returned 'pause'). */
  readonly onset: BargeInOnset = { firstVoicedAt: 0, detectedAt: 0, frames: 0 };

  constructor(cfg: Partial<BargeInConfig> = {}) {
    this.cfg = { ...DEFAULT_BARGE_IN, ...cfg };
  }

  get paused(): boolean {
    return this.#pausedAt >= 0;
  }

  /** Milliseconds since the pause (0 when not paused). */
  pausedFor(now: number): number {
    return this.#pausedAt >= 0 ? now - this.#pausedAt : 0;
  }

  /**
   * One caller frame that arrived at `now`: `voiced` = above the echo gate; `playing` = agent audio
   * is being sent (not paused). Returns what the caller of push() must do now.
   */
  push(voiced: boolean, now: number, playing: boolean): BargeInAction {
    if (voiced) this.#lastVoicedAt = now;
    if (this.#pausedAt >= 0) {
      const { resumeAfterMs, resumeQuietMs } = this.cfg;
      if (now - this.#pausedAt >= resumeAfterMs && now - this.#lastVoicedAt >= resumeQuietMs) {
        this.#pausedAt = -1;
        this.#run = 0;
        return 'resume';
      }
      return null;
    }
    if (!voiced || !playing) {
      this.#run = 0;
      return null;
    }
    if (this.#run === 0) this.#runStart = now;
    this.#run++;
    if (this.#run < this.cfg.onsetFrames) return null;
    this.onset.firstVoicedAt = this.#runStart;
    this.onset.detectedAt = now;
    this.onset.frames = this.#run;
    this.#run = 0;
    this.#pausedAt = now;
    return 'pause';
  }

  /** The pause ended otherwise (confirmed barge-in, playout dropped, media gone). */
  clear(): void {
    this.#pausedAt = -1;
    this.#run = 0;
  }
}
