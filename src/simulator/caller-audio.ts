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
  /**
   * The first frame that carries speech energy (RMS at or above ONSET_DBFS): where the caller is
   * first audible, and where barge-in latency is measured from. The trim leaves frames at the start
   * that hold only a few samples above its threshold.
   */
  readonly onsetFrame: number;
}

export interface CallerVoice {
  readonly sampleRate: number;
  readonly frameBytes: number;
  readonly silenceFrame: string;
  readonly utterances: readonly EncodedUtterance[];
  /** A backchannel ("Uh-huh."): a short sound with no words for the transcript. */
  readonly backchannel: EncodedUtterance;
}

/** A frame at or above this RMS level carries speech energy (dBFS). */
export const ONSET_DBFS = -45;

/** What the caller says, in order; scenarios pick by index. */
export const SCRIPT: readonly string[] = [
  'Hello, I would like to check the balance of my account please.',
  'What are your opening hours on Saturday?',
  'Thank you, that is all I needed. Goodbye.',
  'Sorry, wait, I have one more question.',
];

/** What the caller says while listening (no transcript follows it). */
export const BACKCHANNEL = 'Uh-huh.';

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

/** RMS level of each 20 ms frame of base64 PCM16, dBFS (-120 for digital silence). */
export function frameLevels(frames: readonly string[]): number[] {
  return frames.map((b64) => {
    const buf = Buffer.from(b64, 'base64');
    let sum = 0;
    for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readInt16LE(i) ** 2;
    return sum === 0 ? -120 : 10 * Math.log10(sum / (buf.length / 2) / 32768 ** 2);
  });
}

/** Index of the first frame at or above ONSET_DBFS (0 if none is). */
export function onsetFrame(frames: readonly string[]): number {
  return Math.max(0, frameLevels(frames).findIndex((db) => db >= ONSET_DBFS));
}

let raw: Promise<Pcm16[]> | undefined;
const voices = new Map<number, Promise<CallerVoice>>();

function synthesizeScript(): Promise<Pcm16[]> {
  raw ??= Promise.all(
    [...SCRIPT, BACKCHANNEL].map(async (text) => {
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
      const encoded = pcm.map((p, i) => {
        const text = (i < SCRIPT.length ? SCRIPT[i] : BACKCHANNEL) as string;
        const frames = encodeFrames(resampleLinear(p.samples, p.sampleRate, sampleRate), sampleRate);
        return { text, words: text.split(/\s+/), frames, durationMs: frames.length * 20, onsetFrame: onsetFrame(frames) };
      });
      const utterances = encoded.slice(0, SCRIPT.length);
      const backchannel = encoded[SCRIPT.length] as EncodedUtterance;
      return { sampleRate, frameBytes: frameBytes(sampleRate), silenceFrame: Buffer.alloc(frameBytes(sampleRate)).toString('base64'), utterances, backchannel };
    })();
    voices.set(sampleRate, v);
  }
  return v;
}
