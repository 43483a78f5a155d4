// Reads a simulated call's captured agent audio (runCalls({ captureOutbound: true })): frames in a
// time window, the PCM of a window, and the windows after each caller turn and each stopAudio.
import type { OutboundChunk, SimCall } from '../../src/simulator/sim-call.js';

export const FRAME_BYTES_16K = 640;

function chunksOf(call: SimCall): readonly OutboundChunk[] {
  if (!call.outboundAudio) throw new Error(`call ${call.index}: no outbound audio captured (captureOutbound off?)`);
  return call.outboundAudio;
}

/** Chunks that arrived in (from, to], times in ms since the call was offered. */
export function chunksBetween(call: SimCall, from: number, to: number): OutboundChunk[] {
  return chunksOf(call).filter((c) => c.at > from && c.at <= to);
}

/** Agent audio frames (20 ms at 16 kHz) that arrived in (from, to]. */
export function framesBetween(call: SimCall, from: number, to: number, frameBytes = FRAME_BYTES_16K): number {
  return chunksBetween(call, from, to).reduce((n, c) => n + c.pcm.length / frameBytes, 0);
}

/** The PCM16 samples that arrived in (from, to], concatenated. */
export function pcmBetween(call: SimCall, from: number, to: number): Int16Array {
  const buf = Buffer.concat(chunksBetween(call, from, to).map((c) => c.pcm));
  const out = new Int16Array(buf.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

/** The caller's Final transcript times (ms since offer), in order. */
export function finalTimes(call: SimCall): number[] {
  return (call.callerTurns ?? []).map((t) => t.finalAt).filter((t): t is number => t !== undefined);
}

/** Time of the first caller Final after `t` (or the call's end): when the agent may speak anew. */
export function nextFinalAfter(call: SimCall, t: number): number {
  return finalTimes(call).find((f) => f > t) ?? call.endedAt ?? Number.POSITIVE_INFINITY;
}
