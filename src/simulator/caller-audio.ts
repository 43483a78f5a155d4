// The caller's voice: scripted utterances synthesized once per process, trimmed, resampled to the
// stream's rate when needed and cut into pre-encoded base64 20 ms frames. A silence frame per rate.
import { frameBytes } from './frame-math.js';
import { synthesize, type Pcm16 } from './flite.js';

export interface Utterance {
  readonly text: string;
  readonly words: readonly string[];
}

export interface EncodedUtterance extends Utterance {
  /** base64 PCM16 frames, each exactly one 20 ms frame at the rate. */
  readonly frames: readonly string[];
  readonly durationMs: number;
}

export interface CallerVoice {
  readonly sampleRate: number;
  readonly frameBytes: number;
  readonly silenceFrame: string;
  readonly utterances: readonly EncodedUtterance[];
}

/** What the caller says, in order; scenarios pick by index. */
export const SCRIPT: readonly string[] = [
  'Hello, I would like to check the balance of my account please.',
  'What are your opening hours on Saturday?',
  'Thank you, that is all I needed. Goodbye.',
  'Sorry, wait, I have one more question.',
];

/** Samples below this magnitude at either end of a phrase are cut (engine lead-in and tail). */
const TRIM_THRESHOLD = 300;

export function trimSilence(s: Int16Array): Int16Array {
  let a = 0;
  let b = s.length;
  while (a < b && Math.abs(s[a] as number) < TRIM_THRESHOLD) a++;
  while (b > a && Math.abs(s[b - 1] as number) < TRIM_THRESHOLD) b--;
  return s.subarray(a, b);
}

/** Linear-interpolation resampler (adequate for a test signal). */
export function resampleLinear(input: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return input;
  const outLen = Math.floor((input.length * to) / from);
  const out = new Int16Array(outLen);
  const step = from / to;
  for (let j = 0; j < outLen; j++) {
    const pos = j * step;
    const i = Math.floor(pos);
    const frac = pos - i;
    const a = input[i] ?? 0;
    const b = input[i + 1] ?? a;
    out[j] = Math.round(a + (b - a) * frac);
  }
  return out;
}

/** Cuts PCM into whole frames (the last one padded with zeros), each base64-encoded. */
export function encodeFrames(samples: Int16Array, sampleRate: number): string[] {
  const bytes = frameBytes(sampleRate);
  const perFrame = bytes / 2;
  const frames: string[] = [];
  for (let off = 0; off < samples.length; off += perFrame) {
    const buf = Buffer.alloc(bytes);
    const n = Math.min(perFrame, samples.length - off);
    for (let i = 0; i < n; i++) buf.writeInt16LE(samples[off + i] as number, i * 2);
    frames.push(buf.toString('base64'));
  }
  return frames;
}

let raw: Promise<Pcm16[]> | undefined;
const voices = new Map<number, Promise<CallerVoice>>();

function synthesizeScript(): Promise<Pcm16[]> {
  raw ??= Promise.all(
    SCRIPT.map(async (text) => {
      const pcm = await synthesize(text);
      return { sampleRate: pcm.sampleRate, samples: trimSilence(pcm.samples) };
    }),
  );
  return raw;
}

/** The caller's voice at a sample rate (16000 or 24000), built once and cached for the process. */
export function callerVoice(sampleRate: number): Promise<CallerVoice> {
  let v = voices.get(sampleRate);
  if (!v) {
    v = (async () => {
      const pcm = await synthesizeScript();
      const utterances = pcm.map((p, i) => {
        const text = SCRIPT[i] as string;
        const frames = encodeFrames(resampleLinear(p.samples, p.sampleRate, sampleRate), sampleRate);
        return { text, words: text.split(/\s+/), frames, durationMs: frames.length * 20 };
      });
      return { sampleRate, frameBytes: frameBytes(sampleRate), silenceFrame: Buffer.alloc(frameBytes(sampleRate)).toString('base64'), utterances };
    })();
    voices.set(sampleRate, v);
  }
  return v;
}
