// What a MediaStreamingFailed or TranscriptionFailed callback means for the call, decided by its status
// details and result codes rather than by its type alone. The SDK's generated models list the details
// ACS reports (KnownMediaStreamingStatusDetails / KnownTranscriptionStatusDetails in
// @azure/communication-call-automation 1.6.0): streamConnectionInterrupted is followed, when ACS manages
// to reconnect, by a *Started event with streamConnectionReestablished — so an interruption waits (up to
// a bound) for that; anything else (streamConnectionUnsuccessful, authenticationFailure, serviceShutdown,
// TranscriptionFailed 8522 "Cognitive Services endpoint is not provided", ...) is fatal for that stream.
// Pure functions; no I/O.

export type StreamFailureDecision = 'wait' | 'fatal';

/** Status details that mean "the connection dropped, ACS is re-establishing it". */
const INTERRUPTED = new Set(['streamconnectioninterrupted']);
/** Result subcodes seen with an interrupted stream (treated like the detail, when the detail is absent). */
const INTERRUPTED_SUBCODES = new Set([8582]);

function field(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined;
}

/** The statusDetails of a media streaming or transcription update, lower-cased ('' when absent). */
export function streamStatusDetails(data: Readonly<Record<string, unknown>>): string {
  const update = data['mediaStreamingUpdate'] ?? data['transcriptionUpdate'];
  const d = field(update, 'mediaStreamingStatusDetails') ?? field(update, 'transcriptionStatusDetails');
  return typeof d === 'string' ? d.toLowerCase() : '';
}

export function resultSubCode(data: Readonly<Record<string, unknown>>): number | null {
  const sub = field(data['resultInformation'], 'subCode');
  return typeof sub === 'number' ? sub : null;
}

/** MediaStreamingFailed / TranscriptionFailed: wait for re-establishment, or give the stream up. */
export function streamFailureDecision(data: Readonly<Record<string, unknown>>): StreamFailureDecision {
  const details = streamStatusDetails(data);
  if (INTERRUPTED.has(details)) return 'wait';
  if (details === '' || details === 'unspecifiederror') {
    const sub = resultSubCode(data);
    if (sub !== null && INTERRUPTED_SUBCODES.has(sub)) return 'wait';
  }
  return 'fatal';
}

/** A *Started event saying the stream came back after an interruption. */
export function isReestablished(data: Readonly<Record<string, unknown>>): boolean {
  return streamStatusDetails(data) === 'streamconnectionreestablished';
}
