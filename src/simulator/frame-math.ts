// Frame math shared by the media pump and the report: 20 ms PCM16 mono frames at 16 or 24 kHz.

export type AudioFormat = 'pcm16KMono' | 'pcm24KMono';
export type AudioChannels = 'mixed' | 'unmixed';

export const FRAME_MS = 20;

export function sampleRateOf(format: AudioFormat): 16000 | 24000 {
  return format === 'pcm24KMono' ? 24000 : 16000;
}

/** Bytes in one 20 ms frame of 16-bit mono PCM: 640 at 16 kHz, 960 at 24 kHz. */
export function frameBytes(sampleRate: number): number {
  return (sampleRate / 1000) * FRAME_MS * 2;
}

/** Frames needed to cover `ms` milliseconds of audio (rounded up). */
export function framesFor(ms: number): number {
  return Math.ceil(ms / FRAME_MS);
}

/** Decoded length of a base64 string without decoding it. */
export function base64DecodedLength(b64: string): number {
  const n = b64.length;
  if (n === 0) return 0;
  let pad = 0;
  if (b64.charCodeAt(n - 1) === 61) pad++;
  if (n > 1 && b64.charCodeAt(n - 2) === 61) pad++;
  return Math.floor((n * 3) / 4) - pad;
}

/** 100-ns ticks, the unit of transcription offsets and durations. */
export function msToTicks(ms: number): number {
  return Math.round(ms * 10_000);
}

/**
 * How many ticks of a drift-free clock (period `periodMs`, 20 ms by default) are due at `nowMs` for a
 * clock started at `startMs`. The pump drives every tick from `sent` up to this count, so a late timer
 * catches up rather than drifting.
 */
export function dueTick(startMs: number, nowMs: number, periodMs = FRAME_MS): number {
  return nowMs < startMs ? 0 : Math.floor((nowMs - startMs) / periodMs) + 1;
}
