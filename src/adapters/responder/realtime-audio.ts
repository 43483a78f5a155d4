// Audio rates between a 16 kHz call and a 24 kHz realtime model. With MEDIA_AUDIO_FORMAT=pcm24KMono
// (the default for RESPONDER=realtime) none of this runs: frames pass through untouched.
// Inbound: the caller's 20 ms frames, 320 → 480 samples, linear interpolation with one sample of
// state carried across frames, into a buffer allocated once per call (no allocation per frame).
// Outbound: the model's audio deltas (100-200 ms each, not per frame) go through the project's Speex
// resampler (src/adapters/tts/resampler.ts) once each, in order.
import { resamplePcm16 } from '../tts/resampler.js';

export const MODEL_RATE = 24_000;

/** 16 kHz → 24 kHz for 20 ms frames (3 output samples per 2 input samples). */
export class FrameUpsampler {
  readonly out: Int16Array;
  #prev = 0;

  constructor(readonly inSamples = 320) {
    this.out = new Int16Array((inSamples * 3) / 2);
  }

  /** Converts one frame; returns the shared output buffer (valid until the next call). */
  push(frame: Int16Array): Int16Array {
    const out = this.out;
    const n = Math.min(frame.length, this.inSamples);
    let prev = this.#prev;
    let j = 0;
    for (let i = 0; i + 1 < n; i += 2) {
      const a = frame[i] as number;
      const b = frame[i + 1] as number;
      // Output positions at input offsets i-1/3, i+1/3, i+1 (relative to the previous sample).
      out[j++] = Math.round(prev + ((a - prev) * 2) / 3);
      out[j++] = Math.round(a + (b - a) / 3);
      out[j++] = b;
      prev = b;
    }
    this.#prev = prev;
    return out;
  }
}

/** Resamples deltas in arrival order (each waits for the one before it). */
export class DeltaResampler {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly toRate: number) {}

  push(pcm: Int16Array, onReady: (out: Int16Array) => void): void {
    const next = this.#tail.then(() => resamplePcm16(pcm, MODEL_RATE, this.toRate, 3)).then(onReady);
    this.#tail = next.catch(() => undefined);
  }

  /** Runs fn after every delta pushed so far was delivered. */
  after(fn: () => void): void {
    this.#tail = this.#tail.then(fn).catch(() => undefined);
  }
}
