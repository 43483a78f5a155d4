// WebRTC VAD (libfvad compiled to wasm) behind the VoiceDetector port. One wasm module per process,
// one small native handle per stream. libfvad takes 8/16/32/48 kHz only: 24 kHz streams are resampled
// to 8 kHz per stream with the Speex resampler (quality 0). Frames go through one process-wide
// scratch region in each module (the event loop is single-threaded). HEAP16 is re-read after every
// call that can grow memory, because growth replaces the view.
import fvadFactory, { type FvadModule } from '@echogarden/fvad-wasm';
import speexFactory, { type SpeexResamplerModule } from '@echogarden/speex-resampler-wasm';
import type { VoiceDetector, VoiceDetectorFactory } from '../../domain/audio/vad.js';

const NATIVE_RATES = new Set([8000, 16000, 32000, 48000]);
/** Largest frame accepted: 30 ms at 48 kHz. */
const MAX_FRAME = 1440;

let fvadModule: Promise<FvadModule> | null = null;
let speexModule: Promise<SpeexResamplerModule> | null = null;

interface Scratch<M> {
  readonly m: M;
  readonly frame: number;
}

async function loadFvad(): Promise<Scratch<FvadModule>> {
  fvadModule ??= fvadFactory();
  const m = await fvadModule;
  return { m, frame: scratchFor(m, MAX_FRAME * 2) };
}

interface SpeexScratch extends Scratch<SpeexResamplerModule> {
  readonly out: number;
  readonly inLen: number;
  readonly outLen: number;
  readonly err: number;
}

async function loadSpeex(): Promise<SpeexScratch> {
  speexModule ??= speexFactory();
  const m = await speexModule;
  return { m, frame: scratchFor(m, MAX_FRAME * 2), out: scratchFor(m, MAX_FRAME * 2 + 8), inLen: scratchFor(m, 4), outLen: scratchFor(m, 4), err: scratchFor(m, 4) };
}

const scratches = new WeakMap<object, Map<number, number[]>>();
/** Allocates process-wide scratch regions once per module (kept for the process lifetime). */
function scratchFor(m: { _malloc(n: number): number }, bytes: number): number {
  let byModule = scratches.get(m);
  if (!byModule) scratches.set(m, (byModule = new Map()));
  const list = byModule.get(bytes) ?? [];
  byModule.set(bytes, list);
  const ptr = m._malloc(bytes);
  list.push(ptr);
  return ptr;
}

class FvadDetector implements VoiceDetector {
  #handle: number;
  /** 8 kHz samples produced by the resampler, waiting to fill a 20 ms VAD frame. */
  readonly #pending: Int16Array | null;
  #pendingLen = 0;
  #last = false;

  constructor(
    private readonly f: Scratch<FvadModule>,
    private readonly s: SpeexScratch | null,
    private readonly resampler: number,
    vadRate: number,
    mode: number,
  ) {
    this.#handle = f.m._fvad_new();
    if (this.#handle === 0) throw new Error('fvad_new failed');
    f.m._fvad_set_mode(this.#handle, mode);
    if (f.m._fvad_set_sample_rate(this.#handle, vadRate) !== 0) throw new Error(`fvad: unsupported rate ${vadRate}`);
    this.#pending = s ? new Int16Array(320) : null;
  }

  isSpeech(frame: Int16Array): boolean {
    if (this.#handle === 0) return false;
    if (!this.s) return this.#classify(frame, frame.length);
    // Resample to 8 kHz, then classify every complete 20 ms (160-sample) frame.
    const { m, frame: inPtr, out, inLen, outLen } = this.s;
    const n = Math.min(frame.length, MAX_FRAME);
    m.HEAP16.set(n === frame.length ? frame : frame.subarray(0, n), inPtr >> 1);
    const u32 = m.HEAPU32;
    u32[inLen >> 2] = n;
    u32[outLen >> 2] = MAX_FRAME;
    m._speex_resampler_process_int(this.resampler, 0, inPtr, inLen, out, outLen);
    const produced = m.HEAPU32[outLen >> 2] ?? 0;
    const heap = m.HEAP16;
    const pending = this.#pending as Int16Array;
    let i = 0;
    while (i < produced) {
      const take = Math.min(produced - i, 160 - this.#pendingLen);
      pending.set(heap.subarray((out >> 1) + i, (out >> 1) + i + take), this.#pendingLen);
      this.#pendingLen += take;
      i += take;
      if (this.#pendingLen === 160) {
        this.#last = this.#classify(pending, 160);
        this.#pendingLen = 0;
      }
    }
    return this.#last;
  }

  #classify(samples: Int16Array, n: number): boolean {
    const m = this.f.m;
    m.HEAP16.set(n === samples.length ? samples : samples.subarray(0, n), this.f.frame >> 1);
    return m._fvad_process(this.#handle, this.f.frame, n) === 1;
  }

  close(): void {
    if (this.#handle === 0) return;
    this.f.m._fvad_free(this.#handle);
    this.#handle = 0;
    if (this.s && this.resampler !== 0) this.s.m._speex_resampler_destroy(this.resampler);
  }
}

/** Loads the wasm modules once and returns a factory of per-stream detectors. */
export async function createFvadFactory(mode: number): Promise<VoiceDetectorFactory> {
  const f = await loadFvad();
  let s: SpeexScratch | null = null;
  try {
    s = await loadSpeex();
  } catch {
    s = null; // 24 kHz streams then fail loudly at creation time
  }
  return (sampleRate: number) => {
    if (NATIVE_RATES.has(sampleRate)) return new FvadDetector(f, null, 0, sampleRate, mode);
    if (!s) throw new Error('speex resampler unavailable');
    const state = s.m._speex_resampler_init(1, sampleRate, 8000, 0, s.err);
    if (state === 0) throw new Error(`speex_resampler_init failed for ${sampleRate} Hz`);
    return new FvadDetector(f, s, state, 8000, mode);
  };
}
