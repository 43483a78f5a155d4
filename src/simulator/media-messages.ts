// Inbound (ACS → worker) media message builders. The hot ones are pre-encoded: an AudioData message is
// `head(frame) + timestamp + tail(call)` where the head embeds the base64 frame (built once per
// process) and the tail embeds the call's participant and silent flag (built once per call).
import { msToTicks } from './frame-math.js';

export function audioDataHead(b64: string): string {
  return `{"kind":"AudioData","audioData":{"data":"${b64}","timestamp":"`;
}

export function audioDataTail(participantRawId: string | undefined, silent: boolean): string {
  const p = participantRawId === undefined ? '' : `,"participantRawID":${JSON.stringify(participantRawId)}`;
  return `"${p},"silent":${silent}}}`;
}

export function audioMetadata(subscriptionId: string, sampleRate: number, length: number): string {
  return JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId, encoding: 'PCM', sampleRate, channels: 1, length } });
}

export function transcriptionMetadata(subscriptionId: string, locale: string, callConnectionId: string, correlationId: string): string {
  return JSON.stringify({ kind: 'TranscriptionMetadata', transcriptionMetadata: { subscriptionId, locale, callConnectionId, correlationId } });
}

/**
 * A transcription result for `words` spoken from `offsetMs` for `durationMs` (stream-relative), in the
 * shape the real-time transcription docs show ("Add real-time transcription into your application",
 * learn.microsoft.com/azure/communication-services/how-tos/call-automation/real-time-transcription-tutorial):
 * offsets in 100 ns ticks, no top-level `duration` and no per-word `duration`. `withDurations` adds
 * them (the SDK model has durationInTicks) for tests that need both shapes.
 */
export function transcriptionData(
  words: readonly string[],
  offsetMs: number,
  durationMs: number,
  participantRawId: string,
  status: 'Intermediate' | 'Final',
  withDurations = false,
): string {
  const per = words.length > 0 ? durationMs / words.length : durationMs;
  return JSON.stringify({
    kind: 'TranscriptionData',
    transcriptionData: {
      text: words.join(' '),
      format: 'display',
      confidence: status === 'Final' ? 0.92 : 0.61,
      offset: msToTicks(offsetMs),
      ...(withDurations ? { duration: msToTicks(durationMs) } : {}),
      words: words.map((text, i) => ({
        text: text.replace(/[.,?!]/g, ''),
        offset: msToTicks(offsetMs + i * per),
        ...(withDurations ? { duration: msToTicks(per) } : {}),
      })),
      participantRawID: participantRawId,
      resultStatus: status,
    },
  });
}

export function dtmfData(tone: string): string {
  return JSON.stringify({ kind: 'DtmfData', dtmfData: { data: tone } });
}

/** Malformed frames for the garbage scenario: not JSON, unknown kind, bad base64, wrong frame length. */
export function garbageMessages(isoTime: string): string[] {
  return [
    '{"kind":"AudioData","audioData":{"data":',
    JSON.stringify({ kind: 'HologramData', hologramData: { data: 'x' } }),
    `{"kind":"AudioData","audioData":{"data":"!!not*base64!!","timestamp":"${isoTime}","silent":false}}`,
    `{"kind":"AudioData","audioData":{"data":"${Buffer.alloc(100).toString('base64')}","timestamp":"${isoTime}","silent":false}}`,
  ];
}
