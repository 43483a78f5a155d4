// A call media operation the worker sent (play, cancel, start/stop media streaming and transcription,
// recognize) and the callbacks ACS answers it with, for one simulated call (call-runner.ts).
import type { MediaLink } from './media-link.js';
import type { RunnerDeps } from './runner-deps.js';
import type { SimCall } from './sim-call.js';
import { TRANSCRIPTION_UNSUCCESSFUL, UNSUCCESSFUL } from './stream-results.js';

/** The parts of its runner a call's media operations use. */
export interface MediaOperationHost {
  readonly call: SimCall;
  readonly deps: Pick<RunnerDeps, 'callbacks'>;
  /** The call's pending PlayCompleted / RecognizeCompleted timers (cleared when the call ends). */
  readonly plays: Set<NodeJS.Timeout>;
  ended(): boolean;
  link(): MediaLink | undefined;
  openMedia(reconnect: boolean, details: string, ctx?: string): Promise<void>;
  streamBack(): void;
}

export function applyMediaOperation(host: MediaOperationHost, operation: string, body: Record<string, unknown>): void {
  const { call, deps, plays } = host;
  const ctx = typeof body.operationContext === 'string' ? body.operationContext : undefined;
  switch (operation) {
    case 'play': {
      void deps.callbacks.send(call, 'PlayStarted', {}, ctx);
      const sources = Array.isArray(body.playSources) ? (body.playSources as Record<string, unknown>[]) : [];
      const text = sources.map((s) => String((s.text as { text?: unknown } | undefined)?.text ?? '')).join(' ');
      const ms = Math.min(5_000, 200 + text.length * 40);
      const t = setTimeout(() => {
        plays.delete(t);
        if (!host.ended()) void deps.callbacks.send(call, 'PlayCompleted', {}, ctx);
      }, ms);
      (t as NodeJS.Timeout & { opCtx?: string }).opCtx = ctx;
      plays.add(t);
      return;
    }
    case 'cancelAllMediaOperations':
      for (const t of plays) {
        clearTimeout(t);
        void deps.callbacks.send(call, 'PlayCanceled', {}, (t as NodeJS.Timeout & { opCtx?: string }).opCtx);
      }
      plays.clear();
      return;
    case 'startMediaStreaming':
      // A new subscription to the transportUrl given at answer time (the REST request carries only
      // operationContext / operationCallbackUri); MediaStreamingFailed if it cannot connect.
      if (!host.link()?.isOpen)
        void host.openMedia(true, 'subscriptionStarted', ctx).catch(() =>
          deps.callbacks.send(call, 'MediaStreamingFailed', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingFailed', mediaStreamingStatusDetails: 'streamConnectionUnsuccessful' } }, ctx, UNSUCCESSFUL),
        );
      return;
    case 'stopMediaStreaming':
      host.link()?.close();
      void deps.callbacks.send(call, 'MediaStreamingStopped', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingStopped', mediaStreamingStatusDetails: 'subscriptionStopped' } }, ctx);
      return;
    case 'startTranscription': {
      // With transcription on its own transportUrl, a new subscription opens a new socket to it.
      const link = host.link();
      const opened = link && link.isOpen && !link.transcriptionOpen ? link.openTranscription().then(() => host.streamBack()) : Promise.resolve();
      opened.then(
        () => void deps.callbacks.send(call, 'TranscriptionStarted', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStarted', transcriptionStatusDetails: 'subscriptionStarted' } }, ctx),
        () => void deps.callbacks.send(call, 'TranscriptionFailed', { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'streamConnectionUnsuccessful' } }, ctx, TRANSCRIPTION_UNSUCCESSFUL),
      );
      return;
    }
    case 'stopTranscription':
      void deps.callbacks.send(call, 'TranscriptionStopped', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStopped', transcriptionStatusDetails: 'subscriptionStopped' } }, ctx);
      return;
    case 'recognize': {
      const t = setTimeout(() => {
        plays.delete(t);
        if (!host.ended())
          void deps.callbacks.send(call, 'RecognizeCompleted', { recognitionType: 'dtmf', dtmfResult: { tones: ['one', 'two', 'three', 'four'], toneInfo: [] } }, ctx, { code: 200, subCode: 8531, message: 'Action completed, max digits received.' });
      }, 500);
      plays.add(t);
      return;
    }
    default:
      return;
  }
}
