// Whether a MediaStreamingFailed / TranscriptionFailed says the stream's connection is gone
// (media-failure.ts reads its status details and result subcode).
/**
 * Failures that say the stream's connection is gone (not the request, the credentials or the
 * service configuration): ACS may re-establish it, or a restart opens a new socket (which an ingress
 * sends to a live replica). StreamConnectionUnsuccessful is what the SDK's own test sample of a
 * MediaStreamingFailed carries with 500/8603 "not able to establish websocket connection"; 8578 is the
 * same for TranscriptionFailed ("Add real-time transcription", event codes, learn.microsoft.com).
 */
const CONNECTION_LOST = new Set(['streamconnectioninterrupted', 'streamconnectionunsuccessful', 'initialwebsocketconnectionfailed', 'servicetimeout']);
const CONNECTION_SUBCODES = new Set([8578, 8582, 8603]);

/** True when the failure's status details or subcode say the stream's connection was lost. */
export function isConnectionLost(details: string, subCode: number | null): boolean {
  return CONNECTION_LOST.has(details) || (subCode !== null && CONNECTION_SUBCODES.has(subCode));
}
