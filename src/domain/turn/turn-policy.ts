// What the agent says when it cannot answer normally, and how much of an interrupted reply counts
// as said. Pure functions and constants; no I/O.

/** Spoken instead of silence while every responder slot of the replica is busy. */
export const FILLER_LINE = 'One moment, please.';
/** Spoken when the responder failed or timed out. Never dead air. */
export const FALLBACK_LINE = "Sorry, I didn't catch that. Could you say it again?";
/** Spoken before hanging up after too many consecutive failures. */
export const FAILURE_GOODBYE_LINE = "I'm sorry, I'm having trouble right now. Please call again later. Goodbye.";
/** Consecutive responder failures after which the agent says goodbye and hangs up. */
export const MAX_CONSECUTIVE_FAILURES = 3;

/**
 * The part of `text` the caller actually heard, estimated from the share of audio played,
 * word by word (speech rate is roughly even across a sentence). Rounds to the nearest word.
 */
export function playedText(text: string, playedMs: number, totalMs: number): string {
  if (totalMs <= 0 || playedMs >= totalMs) return text;
  if (playedMs <= 0) return '';
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const n = Math.round((words.length * playedMs) / totalMs);
  return words.slice(0, n).join(' ');
}

/** Rough spoken duration of text when no audio length is known (ACS-side playback): ~2.6 words/s. */
export function estimateSpeechMs(text: string): number {
  const words = text.split(/\s+/).filter((w) => w.length > 0).length;
  return Math.round((words / 2.6) * 1000);
}

/** DTMF digits are kept out of the history (they may be a PIN). */
export function maskDtmf(digits: string): string {
  return `[dtmf ${'*'.repeat(digits.length)}]`;
}
