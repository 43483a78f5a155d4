// The conversation loop of one call: caller input → user turn → responder (streamed) → sentences →
// speech → assistant turn with only what was actually played. Listens on call.events, speaks through
// call.media (or ACS playText), never leaves the caller in silence.
//
// The critical path (caller's final transcript → first agent frame) waits on one store round trip:
// the user turn is appended and the conversation read in the same call (appendTurnAndRead). The
// sentences the responder produces together (with the held last one, when it already ends like a
// sentence) are looked up in the TTS cache together (prefetch: the in-process tier, then one
// pipelined Redis round trip for what it lacks). Context patches the
// responder yields before the first frame are held and written right after it; the assistant turn
// is recorded when playout ends.
import type { LiveCall } from '../live-call.js';
import type { CallEventMap } from '../call-events.js';
import type { CallControl, Clock, ConversationStore, Responder, ResponderInput, Synthesizer } from '../ports.js';
import type { ConversationState } from '../conversation.js';
import { SentenceChunker } from './sentence-chunker.js';
import {
  FAILURE_GOODBYE_LINE,
  FALLBACK_LINE,
  FILLER_LINE,
  MAX_CONSECUTIVE_FAILURES,
  maskDtmf,
  playedText,
} from './turn-policy.js';
import { abortable, type ConcurrencyGate, type FallbackReason, type TurnMetrics, type TurnTiming } from './turn-ports.js';
import { Utterance, type SpeechOut } from './utterance.js';

export interface TurnPipelineDeps {
  readonly conversations: ConversationStore;
  readonly responder: Responder;
  /** Synthesizes for the media outlet; null when ACS speaks the text itself (TTS=acs). */
  readonly synthesizer: Synthesizer | null;
  readonly callControl: CallControl | null;
  readonly gate: ConcurrencyGate;
  readonly clock: Clock;
  readonly metrics: TurnMetrics;
}

export interface TurnPipelineConfig {
  readonly responderTimeoutMs: number;
  /** Voice for ACS playText (TTS=acs). */
  readonly voiceName?: string;
  /** Turn timings kept per call for reports (oldest dropped). */
  readonly maxTimings?: number;
}

type Input = ResponderInput['input'];
const MAX_DTMF_DIGITS = 32;
const GREETING_FALLBACK = 'Hello, thanks for calling. How can I help you?';

export class TurnPipeline {
  readonly timings: TurnTiming[] = [];
  readonly #offs: (() => void)[] = [];
  readonly #pending = new Map<string, Utterance>();
  readonly #out: SpeechOut;
  #greeted = false;
  #dtmf = '';
  #failures = 0;
  #generation = 0;
  #busy = false;
  #utterances = 0;
  #stopped = false;
  /** A goodbye is being said (the call cannot go on): no new turns. */
  #ending = false;
  /** Context patches, written one after another off the critical path. */
  #contextWrites: Promise<void> = Promise.resolve();
  /** announce() waiting for its line to be played out, by utterance id. */
  readonly #played = new Map<string, () => void>();

  constructor(
    private readonly call: LiveCall,
    private readonly deps: TurnPipelineDeps,
    private readonly cfg: TurnPipelineConfig,
  ) {
    this.#out = {
      call,
      synthesizer: deps.synthesizer,
      callControl: deps.callControl,
      clock: deps.clock,
      metrics: deps.metrics,
      voiceName: cfg.voiceName,
    };
  }

  start(): this {
    const ev = this.call.events;
    this.#offs.push(
      ev.on('mediaConnected', (e) => this.#onMediaConnected(e.reconnect)),
      ev.on('transcript', (e) => this.#onTranscript(e)),
      ev.on('dtmf', (e) => this.#onDtmf(e.tone)),
      ev.on('playoutDone', (e) => this.#onPlayoutDone(e)),
      ev.on('callback', (e) => this.#onCallback(e)),
      ev.on('bargeIn', () => this.#onBargeIn()),
      ev.on('unrecoverable', (e) => void this.#sayGoodbye(e.line)),
      ev.on('disconnected', () => this.#flushPending()),
      ev.on('ended', () => this.stop()),
    );
    return this;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const off of this.#offs.splice(0)) off();
    for (const done of this.#played.values()) done();
    this.#played.clear();
    this.call.interruptTurn('call ended');
  }

  /**
   * The call is going away: replies still waiting for playoutDone are recorded now (before the
   * archive reads the conversation), as interrupted, with the played part estimated from the time
   * elapsed since playout started (playout runs in real time).
   */
  #flushPending(): void {
    for (const utt of [...this.#pending.values()]) {
      const played = Math.min(utt.audioMs, Math.max(0, this.deps.clock.monotonic() - utt.startedAt));
      this.#record(utt, played < utt.audioMs, played, utt.audioMs);
    }
    this.call.interruptTurn('disconnected');
  }

  /** Greets once per call: not again on a reconnect, nor on a call resumed with history. */
  #onMediaConnected(reconnect: boolean): void {
    if (this.#greeted) return;
    this.#greeted = true;
    if (reconnect || this.call.nextSeq > 1) return;
    void this.#turn({ kind: 'speech', text: '', confidence: 1 }, 'greeting');
  }

  #onTranscript(e: CallEventMap['transcript']): void {
    if (!e.final) return;
    const text = e.text.trim();
    if (text.length === 0) return;
    void this.#turn({ kind: 'speech', text, confidence: e.confidence }, 'speech');
  }

  #onDtmf(tone: string): void {
    if (tone === '#') {
      const digits = this.#dtmf;
      this.#dtmf = '';
      if (digits.length > 0) void this.#turn({ kind: 'dtmf', text: digits, confidence: 1 }, 'dtmf');
    } else if (tone === '*') {
      this.#dtmf = '';
    } else if (/^[0-9A-D]$/.test(tone) && this.#dtmf.length < MAX_DTMF_DIGITS) {
      this.#dtmf += tone;
    }
  }

  /** One turn. Supersedes a turn in flight; never throws. */
  async #turn(input: Input, kind: TurnTiming['kind']): Promise<void> {
    if (this.#stopped || this.#ending || this.call.transferPending) return;
    const t0 = this.deps.clock.monotonic();
    if (this.#busy || this.call.media?.speaking) {
      this.deps.metrics.superseded();
      this.call.interruptTurn('superseded');
      if (this.call.media?.speaking) this.call.media.stop('transcript');
    }
    const generation = ++this.#generation;
    this.#busy = true;
    try {
      let state: ConversationState | null = null;
      if (kind !== 'greeting') {
        const text = input.kind === 'dtmf' ? maskDtmf(input.text) : input.text;
        // The previous turn's context patches go first (already written, unless the store is slow).
        await this.#contextWrites;
        state = await this.#appendAndRead({ seq: this.call.nextSeq++, speaker: 'user', text, at: this.deps.clock.now(), kind: input.kind, confidence: input.confidence });
      }
      if (generation !== this.#generation || this.#stopped) return;
      await this.#respond(input, kind, t0, state);
    } catch (err) {
      this.call.log.error({ err }, 'turn failed');
    } finally {
      if (generation === this.#generation) this.#busy = false;
    }
  }

  /** `known`: the state read with the user turn's append (null: read it here). */
  async #respond(input: Input, kind: TurnTiming['kind'], t0: number, known: ConversationState | null): Promise<void> {
    const signal = this.call.turnAbort.signal;
    const utt = new Utterance(`${this.call.callId}-u${++this.#utterances}`, t0, this.#out);
    let filler = false;
    let fallback: FallbackReason | null = null;
    let responderMs: number | null = null;
    const timer: { signal: AbortSignal | null } = { signal: null };
    // Context patches yielded before the first frame wait for it (then go in order, unawaited).
    const held: Readonly<Record<string, unknown>>[] = [];
    const release = (all: boolean) => {
      if (utt.started || all) for (const patch of held.splice(0)) this.#writeContext(patch);
    };
    const say = async (sentence: string) => {
      await this.#sayTracked(utt, sentence, signal);
      release(false);
    };

    if (this.deps.gate.saturated) {
      filler = true;
      this.deps.metrics.filler();
      const f = new Utterance(`${utt.id}-filler`, t0, this.#out, false);
      await f.say(FILLER_LINE, signal);
      f.end();
    }

    try {
      await this.deps.gate.run(async () => {
        timer.signal = AbortSignal.timeout(this.cfg.responderTimeoutMs);
        const turnSignal = AbortSignal.any([signal, timer.signal]);
        const state = known ?? (await this.deps.conversations.getState(this.call.callId));
        const chunker = new SentenceChunker();
        const tResp = this.deps.clock.monotonic();
        const stream = this.deps.responder.respond({ callId: this.call.callId, state, input }, turnSignal);
        for await (const chunk of abortable(stream, turnSignal)) {
          if (chunk.type === 'text') {
            if (responderMs === null) {
              responderMs = this.deps.clock.monotonic() - tResp;
              this.deps.metrics.responderLatency(responderMs);
            }
            const sentences = chunker.push(chunk.text);
            const next = chunker.pendingSentence();
            utt.prefetch(next ? [...sentences, next] : sentences);
            for (const sentence of sentences) await say(sentence);
          } else if (chunk.type === 'context') {
            held.push(chunk.patch);
            release(false);
          } else if (chunk.type === 'tool') {
            void this.#append({ seq: this.call.nextSeq++, speaker: 'tool', text: chunk.record, at: this.deps.clock.now() });
          } else {
            utt.action = chunk.action;
          }
        }
        const rest = chunker.flush();
        if (rest) await say(rest);
        if (utt.text.length === 0 && utt.action === null) throw new EmptyReply();
      }, signal);
      if (this.#utteranceAudible(utt)) this.#failures = 0;
    } catch (err) {
      release(true);
      if (signal.aborted) {
        utt.end();
        return;
      }
      fallback = err instanceof EmptyReply ? 'empty' : timer.signal?.aborted || isTimeout(err) ? 'timeout' : 'error';
      this.deps.metrics.fallback(fallback);
      this.#failures++;
      this.call.log.warn({ err, reason: fallback, failures: this.#failures }, 'responder failed; speaking fallback');
      if (this.#failures >= MAX_CONSECUTIVE_FAILURES) {
        this.deps.metrics.failureHangup();
        utt.action = 'hangup';
        await this.#sayTracked(utt, FAILURE_GOODBYE_LINE, signal);
      } else if (utt.text.length === 0) {
        await this.#sayTracked(utt, kind === 'greeting' ? GREETING_FALLBACK : FALLBACK_LINE, signal);
      }
    }
    release(true);
    this.#finish(utt);
    this.#pushTiming({ utteranceId: utt.id, kind, turnMs: utt.firstOutMs, responderMs, ttsMs: utt.ttsMs, sentences: utt.sentences, filler, fallback });
  }

  /**
   * The call cannot go on (TranscriptionFailed, media lost for good): cut whatever is in flight, say
   * `line` where the caller can still hear it, then hang up. The controller hangs up anyway if this
   * takes too long, and records the outcome as failed.
   */
  async #sayGoodbye(line: string): Promise<void> {
    if (this.#stopped || this.#ending) return;
    this.#ending = true;
    this.#generation++;
    if (this.call.media?.speaking) this.call.media.stop('hangup');
    this.call.interruptTurn('unrecoverable');
    const signal = this.call.turnAbort.signal;
    const utt = new Utterance(`${this.call.callId}-goodbye`, this.deps.clock.monotonic(), this.#out, false);
    utt.action = 'hangup';
    try {
      await this.#sayTracked(utt, line, signal);
    } catch (err) {
      this.call.log.warn({ err }, 'goodbye line not spoken');
    }
    this.#finish(utt);
  }

  async #sayTracked(utt: Utterance, text: string, signal: AbortSignal): Promise<void> {
    const first = !utt.started;
    await utt.say(text, signal);
    if (first && utt.started) {
      utt.seq = this.call.nextSeq++;
      this.#pending.set(utt.id, utt);
    }
  }

  #utteranceAudible(utt: Utterance): boolean {
    return utt.started || utt.action !== null;
  }

  #finish(utt: Utterance): void {
    if (utt.started) {
      utt.end();
      return;
    }
    this.#played.get(utt.id)?.();
    if (utt.action === 'hangup') void this.#hangUp();
    if (utt.action === 'transfer') this.call.events.emit('transferRequested', { announced: false });
  }

  /** Says `line` (an assistant turn); resolves once it played out or was cut: call-transfer.ts's speaker. */
  async announce(line: string): Promise<void> {
    if (this.#stopped) return;
    const utt = new Utterance(`${this.call.callId}-a${++this.#utterances}`, this.deps.clock.monotonic(), this.#out, false);
    const played = new Promise<void>((resolve) => this.#played.set(utt.id, resolve));
    try {
      await this.#sayTracked(utt, line, this.call.turnAbort.signal);
    } catch (err) {
      this.call.log.warn({ err }, 'announcement not spoken');
    }
    this.#finish(utt);
    await played;
    this.#played.delete(utt.id);
  }

  #onPlayoutDone(e: CallEventMap['playoutDone']): void {
    const utt = this.#pending.get(e.utteranceId);
    if (!utt) return;
    this.#record(utt, e.interrupted, e.playedMs, e.totalMs > 0 ? e.totalMs : utt.audioMs);
  }

  #onCallback(e: CallEventMap['callback']): void {
    if (e.type !== 'PlayCompleted' && e.type !== 'PlayCanceled' && e.type !== 'PlayFailed') return;
    const utt = this.#pending.get(String(e.data['operationContext'] ?? ''));
    if (!utt) return;
    const total = utt.audioMs;
    const played = e.type === 'PlayCompleted' ? total : Math.min(total, this.deps.clock.monotonic() - utt.startedAt);
    this.#record(utt, e.type !== 'PlayCompleted', e.type === 'PlayFailed' ? 0 : played, total);
  }

  #onBargeIn(): void {
    if (this.deps.synthesizer !== null || !this.deps.callControl || !this.call.callConnectionId) return;
    if (this.#pending.size === 0) return;
    this.deps.callControl.cancelMedia(this.call.callConnectionId, 'barge-in').catch((err: unknown) => {
      this.call.log.warn({ err }, 'cancelMedia on barge-in failed');
    });
  }

  #record(utt: Utterance, interrupted: boolean, playedMs: number, totalMs: number): void {
    this.#pending.delete(utt.id);
    this.#played.get(utt.id)?.();
    const full = utt.text;
    const text = interrupted ? playedText(full, playedMs, totalMs) : full;
    const turn = interrupted
      ? { seq: utt.seq, speaker: 'assistant' as const, text, at: utt.at, interrupted: true, playedMs: Math.round(playedMs) }
      : { seq: utt.seq, speaker: 'assistant' as const, text, at: utt.at, playedMs: Math.round(playedMs) };
    void this.#append(turn).then(() => {
      if (utt.action === 'hangup') return this.#hangUp();
      // After the reply played out: the transfer may now be requested (call-transfer.ts).
      if (utt.action === 'transfer') this.call.events.emit('transferRequested', { announced: true });
      return undefined;
    });
  }

  /** The user turn, stored with the conversation read in the same round trip; null when the store failed. */
  async #appendAndRead(turn: Parameters<ConversationStore['appendTurn']>[1]): Promise<ConversationState | null> {
    try {
      return (await this.deps.conversations.appendTurnAndRead(this.call.callId, turn)).state;
    } catch (err) {
      this.call.log.error({ err, seq: turn.seq, speaker: turn.speaker }, 'could not store turn');
      return null;
    }
  }

  #writeContext(patch: Readonly<Record<string, unknown>>): void {
    this.#contextWrites = this.#contextWrites
      .then(() => this.deps.conversations.updateContext(this.call.callId, patch))
      .catch((err: unknown) => this.call.log.error({ err, fields: Object.keys(patch) }, 'could not store context'));
  }

  async #append(turn: Parameters<ConversationStore['appendTurn']>[1]): Promise<void> {
    try {
      await this.deps.conversations.appendTurn(this.call.callId, turn);
    } catch (err) {
      this.call.log.error({ err, seq: turn.seq, speaker: turn.speaker }, 'could not store turn');
    }
  }

  async #hangUp(): Promise<void> {
    const id = this.call.callConnectionId;
    if (!this.deps.callControl || !id) return;
    try {
      await this.deps.callControl.hangUp(id, 'agent-hangup');
    } catch (err) {
      this.call.log.error({ err }, 'agent hang-up failed');
    }
  }

  #pushTiming(t: TurnTiming): void {
    this.timings.push(t);
    if (this.timings.length > (this.cfg.maxTimings ?? 100)) this.timings.shift();
  }
}

class EmptyReply extends Error {
  constructor() {
    super('responder produced no reply');
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || (err as { code?: string }).code === 'VOICE_ERR_RESPONDER_TIMEOUT');
}
