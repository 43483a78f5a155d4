// The media side of one simulated call (call-runner.ts): opens the audio stream (and transcription)
// as ACS does after an answer, and plays ACS when the worker's end of a stream goes away: interrupted,
// re-established or failed, with the caller hanging up on a line left dead too long.
import type { CallerVoice } from './caller-audio.js';
import { MediaLink } from './media-link.js';
import type { RunnerDeps } from './runner-deps.js';
import type { SimCall } from './sim-call.js';
import { INTERRUPTED, TRANSCRIPTION_UNSUCCESSFUL, UNSUCCESSFUL } from './stream-results.js';

export const RECONNECT_PAUSE_MS = 300;
/** ACS's own re-establishment of a dropped stream: attempts, one second apart. */
const STREAM_RECONNECT_ATTEMPTS = 3;
/** The caller hangs up after this long on a line without a media stream. */
const DEAD_AIR_MS = 20_000;
/** The `echo` scenario's line: the agent's audio back at -25 dB (poor echo cancellation). */
const ECHO_DB = -25;

/** The parts of its runner a call's streams use. */
export interface SimStreamsHost {
  readonly call: SimCall;
  readonly deps: RunnerDeps;
  readonly steps: readonly string[];
  ended(): boolean;
  ending(): boolean;
  fail(cause: string): void;
  end(by: 'caller'): void;
}

export class SimStreams {
  link: MediaLink | undefined;
  voice: CallerVoice | undefined;
  /** Bumped whenever a stream of the call is lost or re-established (the caller repeats what was not heard). */
  epoch = 0;
  private deadAir: NodeJS.Timeout | undefined;

  constructor(private readonly host: SimStreamsHost) {}

  async openMedia(reconnect: boolean, details: string = reconnect ? 'streamConnectionReestablished' : 'subscriptionStarted', ctx?: string): Promise<void> {
    const { call, deps } = this.host;
    const media = call.answer?.mediaStreamingOptions ?? {};
    const requested = call.answer?.transcriptionOptions;
    // ACS transcribes through the Azure AI services resource named in callIntelligenceOptions; without
    // it the transcription subscription fails with TranscriptionFailed (8522) and no result ever comes.
    const tr = requested && requested.startTranscription !== false && call.answer?.cognitiveServicesEndpoint ? requested : undefined;
    const rate = media.audioFormat === 'pcm24KMono' ? 24000 : 16000;
    this.voice ??= await deps.voice(rate);
    const link = new MediaLink(
      call,
      {
        url: String(media.transportUrl),
        participantRawId: media.audioChannelType === 'unmixed' || deps.channels === 'unmixed' ? call.caller.rawId : undefined,
        callerRawId: call.caller.rawId,
        transcription: tr ? { locale: typeof tr.locale === 'string' ? tr.locale : 'en-US', intermediate: tr.enableIntermediateResults === true } : undefined,
        transcriptionUrl: tr && typeof tr.transportUrl === 'string' ? tr.transportUrl : undefined,
        dtmf: media.enableDtmfTones === true,
        echoDb: this.host.steps.includes('echo') ? ECHO_DB : undefined,
      },
      this.voice,
      deps.clock,
      deps.identity,
      deps.stats,
    );
    link.onUnexpectedClose = (code) => this.mediaLost(code);
    link.onTranscriptionLost = (code) => this.transcriptionLost(link, code);
    const previous = this.link;
    // The transcription subscription is not the audio stream's: its socket, if still open, carries on.
    const keep = previous?.detachTranscription();
    previous?.close(1000);
    this.link = link;
    await link.connect(keep);
    if (this.host.ended()) return link.close();
    this.streamBack();
    void deps.callbacks.send(call, 'MediaStreamingStarted', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingStarted', mediaStreamingStatusDetails: details } }, ctx);
    if (!reconnect && tr)
      void deps.callbacks.send(call, 'TranscriptionStarted', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStarted', transcriptionStatusDetails: 'subscriptionStarted' } });
    if (!reconnect && requested && requested.startTranscription !== false && !tr) {
      call.transcriptionFailed = true;
      void deps.callbacks.send(
        call,
        'TranscriptionFailed',
        { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'unspecifiedError' } },
        undefined,
        { code: 400, subCode: 8522, message: 'Action failed, Cognitive Services endpoint is not provided.' },
      );
    }
    if (!reconnect)
      void deps.callbacks.send(call, 'ParticipantsUpdated', { sequenceNumber: 1, participants: [{ identifier: call.caller, isMuted: false, isOnHold: false }] });
  }

  private mediaLost(code: number): void {
    if (this.host.ended() || this.host.ending()) return;
    if (code === 1006) return void this.streamInterrupted('media');
    // The worker closed the stream (a close frame). Give it a moment to hang up properly; otherwise the call failed.
    setTimeout(() => {
      if (this.host.ended()) return;
      this.host.fail('media-closed-by-worker');
      this.host.end('caller');
    }, 2_000).unref();
  }

  private transcriptionLost(link: MediaLink, code: number): void {
    if (this.host.ended() || this.host.ending() || link !== this.link) return;
    if (code === 1006) return void this.streamInterrupted('transcription');
    // A close frame from the worker ends the subscription: the caller is no longer heard.
    void this.host.deps.callbacks.send(this.host.call, 'TranscriptionStopped', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStopped', transcriptionStatusDetails: 'subscriptionStopped' } });
  }

  /**
   * The worker's end of a stream went away without a close frame (its process died, its connection
   * broke). ACS reports the interruption; then, as `streamReconnect` says, it re-opens the stream to
   * the same transportUrl (an ingress sends it to a live replica) or waits for the worker to restart
   * it. A caller left on a dead line hangs up after DEAD_AIR_MS.
   */
  private async streamInterrupted(kind: 'media' | 'transcription'): Promise<void> {
    const { call, deps } = this.host;
    this.epoch++;
    this.link?.cancelWaits(true);
    if (kind === 'media') {
      void deps.callbacks.send(call, 'MediaStreamingFailed', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingFailed', mediaStreamingStatusDetails: 'streamConnectionInterrupted' } }, undefined, INTERRUPTED);
    } else {
      void deps.callbacks.send(call, 'TranscriptionFailed', { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'streamConnectionInterrupted' } }, undefined, INTERRUPTED);
    }
    this.deadAir ??= setTimeout(() => {
      this.deadAir = undefined;
      if (this.host.ended() || this.streamsUp()) return;
      this.host.fail('media-lost');
      this.host.end('caller');
    }, DEAD_AIR_MS);
    this.deadAir.unref();
    if ((deps.streamReconnect ?? 'reconnect') === 'none') return;
    for (let attempt = 1; attempt <= STREAM_RECONNECT_ATTEMPTS; attempt++) {
      await sleep(attempt === 1 ? RECONNECT_PAUSE_MS : 1000);
      if (this.host.ended() || this.host.ending()) return;
      try {
        if (kind === 'media') {
          if (this.link?.isOpen) return;
          await this.openMedia(true);
        } else {
          if (!this.link?.isOpen || this.link.transcriptionOpen) return;
          await this.link.openTranscription();
          this.streamBack();
          void deps.callbacks.send(call, 'TranscriptionStarted', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStarted', transcriptionStatusDetails: 'streamConnectionReestablished' } });
        }
        return;
      } catch {
        // the next attempt, or give up below
      }
    }
    if (this.host.ended() || this.host.ending()) return;
    if (kind === 'media')
      void deps.callbacks.send(call, 'MediaStreamingFailed', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingFailed', mediaStreamingStatusDetails: 'streamConnectionUnsuccessful' } }, undefined, UNSUCCESSFUL);
    else
      void deps.callbacks.send(call, 'TranscriptionFailed', { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'streamConnectionInterrupted' } }, undefined, TRANSCRIPTION_UNSUCCESSFUL);
  }

  streamsUp(): boolean {
    return this.link !== undefined && this.link.isOpen && this.link.transcriptionOpen;
  }

  /** A stream came back: the caller carries on (and repeats what was not heard). */
  streamBack(): void {
    this.epoch++;
    if (this.deadAir && this.streamsUp()) {
      clearTimeout(this.deadAir);
      this.deadAir = undefined;
    }
  }

  /** The call ended: the caller no longer waits on a dead line. */
  clearDeadAir(): void {
    if (this.deadAir) clearTimeout(this.deadAir);
    this.deadAir = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
