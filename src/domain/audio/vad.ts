// Voice activity: the frame classifier port (implemented by the WebRTC VAD adapter) and the onset /
// hangover smoothing that turns per-frame decisions into speechStart / speechEnd.

/** Classifies 20 ms PCM16 frames of one stream. Stateful (keeps its own history); one per stream. */
export interface VoiceDetector {
  /** True when the frame holds voice. */
  isSpeech(frame: Int16Array): boolean;
  /** Frees the native handle. Idempotent. */
  close(): void;
}

export type VoiceDetectorFactory = (sampleRate: number) => VoiceDetector;

export interface VadSmoothingConfig {
  /** Consecutive speech frames before speech starts. */
  readonly onsetFrames: number;
  /** Milliseconds of non-speech before speech ends. */
  readonly hangoverMs: number;
  readonly frameMs: number;
}

export type VadTransition = 'start' | 'end' | null;

/** Onset / hangover state of one stream. */
export class VadSmoother {
  speaking = false;
  #run = 0;
  #quietMs = 0;

  constructor(private readonly cfg: VadSmoothingConfig) {}

  /** Feeds one frame's decision; returns the transition it caused, if any. */
  push(speech: boolean): VadTransition {
    if (speech) {
      this.#quietMs = 0;
      if (this.speaking) return null;
      this.#run++;
      if (this.#run >= this.cfg.onsetFrames) {
        this.speaking = true;
        this.#run = 0;
        return 'start';
      }
      return null;
    }
    this.#run = 0;
    if (!this.speaking) return null;
    this.#quietMs += this.cfg.frameMs;
    if (this.#quietMs >= this.cfg.hangoverMs) {
      this.speaking = false;
      this.#quietMs = 0;
      return 'end';
    }
    return null;
  }

  reset(): void {
    this.speaking = false;
    this.#run = 0;
    this.#quietMs = 0;
  }
}
