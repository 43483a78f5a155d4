// One reply being spoken: sentences synthesized and queued on the media outlet (or collected and
// played by ACS with playText), with what is needed to record the assistant turn afterwards.
import type { LiveCall } from '../live-call.js';
import type { CallControl, Clock, Synthesizer } from '../ports.js';
import { estimateSpeechMs } from './turn-policy.js';
import type { TurnMetrics } from './turn-ports.js';

/** What an utterance needs to reach the caller. */
export interface SpeechOut {
  readonly call: LiveCall;
  readonly synthesizer: Synthesizer | null;
  readonly callControl: CallControl | null;
  readonly clock: Clock;
  readonly metrics: TurnMetrics;
  readonly voiceName: string | undefined;
}

export class Utterance {
  /** Conversation seq of the assistant turn, reserved when the first sentence goes out. */
  seq = 0;
  action: 'hangup' | 'transfer' | null = null;
  /** Epoch ms when the first sentence went out. */
  at = 0;
  /** Monotonic ms when the first sentence went out. */
  startedAt = 0;
  /** Input → first speak()/playText() in ms; null until then. */
  firstOutMs: number | null = null;
  audioMs = 0;
  ttsMs = 0;
  sentences = 0;
  readonly #parts: string[] = [];
  #ended = false;

  constructor(
    readonly id: string,
    private readonly t0: number,
    private readonly out: SpeechOut,
    private readonly measured = true,
  ) {}

  get started(): boolean {
    return this.#parts.length > 0;
  }

  get text(): string {
    return this.#parts.join(' ');
  }

  /** The sentences about to be said, known together: looked up in the TTS cache at once. */
  prefetch(sentences: readonly string[]): void {
    const media = this.out.call.media;
    if (sentences.length === 0 || this.#ended || !media) return;
    this.out.synthesizer?.prefetch?.(sentences, media.sampleRate);
  }

  /** Synthesizes and queues one sentence. Returns quietly when aborted or when no outlet is attached. */
  async say(sentence: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#ended) return;
    const { synthesizer, call } = this.out;
    if (synthesizer === null) {
      this.#mark();
      this.#parts.push(sentence);
      this.audioMs += estimateSpeechMs(sentence);
      this.sentences++;
      return;
    }
    const media = call.media;
    if (!media) {
      call.log.warn({ utteranceId: this.id }, 'no media outlet attached; reply not spoken');
      return;
    }
    const t = this.out.clock.monotonic();
    const pcm = await synthesizer.synthesize(sentence, media.sampleRate, signal);
    const took = this.out.clock.monotonic() - t;
    this.ttsMs += took;
    this.out.metrics.ttsLatency(took);
    // The outlet may have been replaced (reconnect) or the turn cut short while synthesizing.
    const outlet = call.media;
    if (signal.aborted || this.#ended || !outlet) return;
    this.#mark();
    outlet.speak(this.id, pcm);
    this.#parts.push(sentence);
    this.audioMs += (pcm.length * 1000) / outlet.sampleRate;
    this.sentences++;
  }

  /** Ends the utterance: the media outlet reports playoutDone; with ACS the text is played now. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.started) return;
    const { synthesizer, call, callControl } = this.out;
    if (synthesizer !== null) {
      call.media?.endUtterance(this.id);
      return;
    }
    if (!callControl || !call.callConnectionId) {
      call.log.warn({ utteranceId: this.id }, 'no call connection; reply not played');
      return;
    }
    callControl
      .playText(call.callConnectionId, this.text, { ...(this.out.voiceName ? { voiceName: this.out.voiceName } : {}), operationContext: this.id })
      .catch((err: unknown) => call.log.error({ err, utteranceId: this.id }, 'playText failed'));
  }

  #mark(): void {
    if (this.started) return;
    this.at = this.out.clock.now();
    this.startedAt = this.out.clock.monotonic();
    this.firstOutMs = this.startedAt - this.t0;
    if (this.measured) this.out.metrics.turnLatency(this.firstOutMs);
  }
}
