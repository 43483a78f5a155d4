// The resultInformation ACS puts on a failed media or transcription stream, as the simulator sends it.
export const INTERRUPTED = { code: 500, subCode: 8582, message: 'Media streaming connection interrupted.' };
/** As ACS reports a stream it cannot (re)connect (MediaStreamingFailed, streamConnectionUnsuccessful). */
export const UNSUCCESSFUL = { code: 500, subCode: 8603, message: 'Action failed, not able to establish websocket connection.' };
/** TranscriptionFailed when the transcription socket cannot be (re)connected ("Add real-time transcription", event codes). */
export const TRANSCRIPTION_UNSUCCESSFUL = { code: 500, subCode: 8578, message: 'Action failed, not able to establish WebSocket connection.' };
