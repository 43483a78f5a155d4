// RESPONDER=realtime: one call's media bridged to a realtime speech-to-speech model session
// (OpenAI Realtime, Azure OpenAI realtime, Azure AI Voice Live; realtime-socket.ts). Replaces the
// cascaded turn pipeline for the call; listens on call.events and speaks through call.media.
//
// - Caller frames: the media session hands every caller frame to call.inputTap; each goes out as
//   one input_audio_buffer.append (no await, no allocation but the base64 string; 16 kHz calls are
//   upsampled into one per-call buffer, realtime-audio.ts).
// - Model audio: response.(output_)audio.delta is queued on the call's playout channel as one
//   utterance per assistant item; the playout scheduler paces it out in 20 ms frames, never faster
//   than real time, whatever rate the model sends at.
// - Barge-in: our echo-gated energy detector pauses playout (stopAudio at once) and our WebRTC VAD's
//   speech onset during that pause confirms it (the fast path); the model's
//   input_audio_buffer.speech_started while agent audio is queued confirms it too. Confirmed →
//   the media session drops the queue; here response.cancel (while the response runs) and
//   conversation.item.truncate with audio_end_ms = the milliseconds actually played out, so the
//   model's memory holds only what the caller heard ("conversation.item.truncate", Azure OpenAI
//   realtime audio events reference).
// - Turns: the caller's (conversation.item.input_audio_transcription.completed) and the agent's
//   (output transcript, cut to what was played when interrupted) go to the conversation store with
//   the cascaded path's sequence rules: the seq is reserved when the turn begins (input committed /
//   first audio delta), the turn appended when its text is known / its playout ended.
// - Session: instructions from the conversation context (profile, verified flag), the stored
//   history primed as conversation items (a reconnect, or a call resumed on another replica).
// - Failure: the socket drops → a short filler line, reconnect with the stored history within
//   reconnectMs; past it → the goodbye line and a hang-up with outcome responder-failed.
import { performance } from 'node:perf_hooks';
import type { LiveCall } from '../../domain/live-call.js';
import type { ConversationState, Turn } from '../../domain/conversation.js';
import { FAILURE_GOODBYE_LINE, FILLER_LINE, playedText } from '../../domain/turn/turn-policy.js';
import type { TurnTiming } from '../../domain/turn/turn-ports.js';
import { trimHistory } from './openai-responder.js';
import { runTool, sessionInstructions } from './realtime-tools.js';
import { DeltaResampler, FrameUpsampler, MODEL_RATE } from './realtime-audio.js';
import {
  decodePcm16,
  encodeAppend,
  encodeFunctionOutput,
  encodeHistoryItem,
  encodeResponseCancel,
  encodeResponseCreate,
  encodeSessionUpdate,
  encodeTruncate,
  type RealtimeUsage,
  type ServerEvent,
} from './realtime-codec.js';
import type { RealtimeLink } from './realtime-socket.js';
import type { AgentItem, RealtimeBridgeConfig, RealtimeBridgeDeps, RealtimeCounters } from './realtime-ports.js';
export type { RealtimeBridgeConfig, RealtimeBridgeDeps, RealtimeCounters, RealtimeMetrics } from './realtime-ports.js';
import type { ToolAction } from '../../domain/tools/builtin-tools.js';

const GREETING = 'The caller has just connected. Greet them briefly (by name if known) and ask how you can help.';


export class RealtimeBridge {
  readonly timings: TurnTiming[] = [];
  readonly counters: RealtimeCounters = { audioInMs: 0, audioOutMs: 0, inputTokens: 0, outputTokens: 0, reconnects: 0, truncates: 0 };
  state: 'connecting' | 'ready' | 'reconnecting' | 'failed' | 'closed' = 'connecting';
  #link: RealtimeLink | null = null;
  readonly #offs: (() => void)[] = [];
  readonly #items = new Map<string, AgentItem>();
  readonly #byUtterance = new Map<string, AgentItem>();
  readonly #userSeq = new Map<string, number>();
  readonly #cut = new Set<string>();
  #activeResponse: string | null = null;
  #greet = false;
  #paused = false;
  #modelBarge = false;
  #stoppedAt = -1;
  #n = 0;
  /** What a tool asked for (end_call, transfer_to_agent): done after the next reply has played. */
  #action: ToolAction | null = null;
  #up: FrameUpsampler | null = null;
  #down: DeltaResampler | null = null;
  readonly #tap: (pcm: Int16Array) => void;

  constructor(
    private readonly call: LiveCall,
    private readonly deps: RealtimeBridgeDeps,
    private readonly cfg: RealtimeBridgeConfig,
  ) {
    this.#tap = (pcm) => this.#frame(pcm);
  }

  start(): this {
    const ev = this.call.events;
    this.#offs.push(
      ev.on('mediaConnected', (e) => this.#onMediaConnected(e.reconnect, e.sampleRate)),
      ev.on('playoutPaused', () => void (this.#paused = true)),
      ev.on('playoutResumed', () => void (this.#paused = false)),
      // Our VAD's onset while playout is paused by the energy detector confirms the barge-in.
      ev.on('speechStart', () => {
        if (this.#paused && this.call.media?.speaking) this.call.requestBargeIn?.('vad');
      }),
      ev.on('bargeIn', (e) => this.#onBargeIn(e.utteranceId, e.playedMs)),
      ev.on('playoutDone', (e) => this.#onPlayoutDone(e.utteranceId, e.interrupted, e.playedMs, e.totalMs)),
      ev.on('disconnected', () => this.#flush()),
      ev.on('ended', () => this.stop()),
      ev.on('released', () => this.stop()),
    );
    this.call.inputTap = this.#tap;
    void this.#open(false);
    return this;
  }

  stop(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const off of this.#offs.splice(0)) off();
    if (this.call.inputTap === this.#tap) this.call.inputTap = null;
    this.#link?.close();
    this.#link = null;
    this.deps.metrics.usage({ audioInS: this.counters.audioInMs / 1000, audioOutS: this.counters.audioOutMs / 1000, inputTokens: this.counters.inputTokens, outputTokens: this.counters.outputTokens });
  }

  // ---- the model session ----

  async #open(reconnect: boolean): Promise<boolean> {
    let link: RealtimeLink;
    try {
      link = await this.deps.connector.connect({ onEvent: (e, at) => this.#onEvent(e, at), onClose: (code, reason) => this.#onClose(code, reason) }, this.cfg.connectTimeoutMs);
    } catch (err) {
      this.call.log.warn({ err, reconnect }, 'realtime session could not be opened');
      if (!reconnect) void this.#recover();
      return false;
    }
    if (this.state === 'closed') {
      link.close();
      return true;
    }
    let state: ConversationState | null = null;
    try {
      state = await this.deps.conversations.getState(this.call.callId);
    } catch (err) {
      this.call.log.warn({ err }, 'conversation unavailable; realtime session starts without context');
    }
    const c = this.deps.connector;
    const tools = this.deps.tools?.definitions() ?? [];
    link.send(encodeSessionUpdate(c.shape, { instructions: sessionInstructions(this.cfg.systemPrompt, state), voice: this.cfg.voice, silenceMs: this.cfg.silenceMs, transcriptionModel: c.transcriptionModel, voiceObject: c.voiceObject, tools }));
    if (state) {
      for (const t of trimHistory(state.history.filter((h) => h.speaker !== 'system' && h.speaker !== 'tool' && h.text.length > 0), this.cfg.historyTokenBudget)) {
        link.send(encodeHistoryItem(c.shape, t));
      }
    }
    this.#link = link;
    this.#activeResponse = null;
    this.state = 'ready';
    if (this.#greet) {
      this.#greet = false;
      link.send(encodeResponseCreate(GREETING));
    }
    return true;
  }

  #onClose(code: number, reason: string): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.call.log.warn({ code, reason }, 'realtime socket dropped; reconnecting');
    this.#link = null;
    // What the lost session sent plays out and ends; it will not send response.done now.
    for (const it of this.#items.values()) this.#endItem(it);
    void this.#recover();
  }

  /** Reconnects within reconnectMs (the caller hears the filler line meanwhile), else ends the call. */
  async #recover(): Promise<void> {
    if (this.state === 'reconnecting' || this.state === 'closed') return;
    this.state = 'reconnecting';
    this.#activeResponse = null;
    void this.#speakLine(FILLER_LINE, false);
    const deadline = this.deps.clock.monotonic() + this.cfg.reconnectMs;
    let wait = 100;
    while (this.deps.clock.monotonic() < deadline) {
      if (this.state !== 'reconnecting') return;
      if (await this.#open(true)) {
        this.counters.reconnects++;
        this.deps.metrics.reconnect('ok');
        this.call.log.info({ reconnects: this.counters.reconnects }, 'realtime session re-opened with the stored history');
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline - this.deps.clock.monotonic()))));
      wait = Math.min(wait * 2, 1000);
    }
    if (this.state !== 'reconnecting') return;
    this.state = 'failed';
    this.deps.metrics.reconnect('failed');
    this.call.log.error({ boundMs: this.cfg.reconnectMs }, 'realtime session lost for good; ending the call');
    if (!(await this.#speakLine(FAILURE_GOODBYE_LINE, true))) void this.#hangUp();
  }

  // ---- server events ----

  #onEvent(e: ServerEvent, at: number): void {
    switch (e.kind) {
      case 'audioDelta':
        return this.#onAudio(e.responseId, e.itemId, e.audio, at);
      case 'transcriptDelta': {
        const it = this.#items.get(e.itemId);
        if (it && !it.cut) it.text += e.delta;
        return;
      }
      case 'transcriptDone': {
        const it = this.#items.get(e.itemId);
        if (it && !it.cut && e.transcript) it.text = e.transcript;
        return;
      }
      case 'audioDone':
        return this.#endItem(this.#items.get(e.itemId));
      case 'responseCreated':
        this.#activeResponse = e.responseId;
        return;
      case 'responseDone':
        if (this.#activeResponse === e.responseId) this.#activeResponse = null;
        for (const it of this.#items.values()) if (it.responseId === e.responseId) this.#endItem(it);
        if (e.usage) this.#usage(e.usage);
        return;
      case 'speechStarted':
        // The model's VAD heard the caller while our audio is queued: barge-in (if ours did not yet).
        if (this.call.media?.speaking) {
          this.#modelBarge = true;
          this.call.requestBargeIn?.('vad');
          this.#modelBarge = false;
        }
        return;
      case 'speechStopped':
        this.#stoppedAt = this.deps.clock.monotonic();
        return;
      case 'committed':
        if (!this.#userSeq.has(e.itemId)) this.#userSeq.set(e.itemId, this.call.nextSeq++);
        return;
      case 'inputTranscript':
        return this.#onUserText(e.itemId, e.text);
      case 'functionCall':
        void this.#onFunctionCall(e.callId, e.name, e.arguments);
        return;
      case 'error':
        // Our response.cancel can cross the server's own cancel (server VAD interrupt_response): expected.
        if (e.code === 'response_cancel_not_active') this.call.log.debug({ code: e.code }, 'response already over when cancelled');
        else this.call.log.warn({ code: e.code, message: e.message }, 'realtime server error event');
        return;
      default:
        return;
    }
  }

  #onAudio(responseId: string, itemId: string, b64: string, receivedAt: number): void {
    if (this.#cut.has(responseId)) return;
    const media = this.call.media;
    if (!media) return;
    let it = this.#items.get(itemId);
    const first = it === undefined;
    if (!it) {
      const now = this.deps.clock.monotonic();
      it = { id: itemId, responseId, utteranceId: `${this.call.callId}-rt${++this.#n}`, seq: this.call.nextSeq++, at: this.deps.clock.now(), firstAt: now, text: '', audioMs: 0, ended: false, cut: false, hangup: false };
      this.#items.set(itemId, it);
      this.#byUtterance.set(it.utteranceId, it);
      if (this.#stoppedAt >= 0) {
        const ms = now - this.#stoppedAt;
        this.deps.metrics.firstAudio(ms);
        this.#timing({ utteranceId: it.utteranceId, kind: 'speech', turnMs: ms, responderMs: ms, ttsMs: 0, sentences: 1, filler: false, fallback: null });
        this.#stoppedAt = -1;
      }
    }
    if (it.cut || it.ended) return;
    const pcm = decodePcm16(b64);
    const ms = (pcm.length * 1000) / MODEL_RATE;
    it.audioMs += ms;
    this.counters.audioOutMs += ms;
    if (media.sampleRate === MODEL_RATE) {
      const out = media as { framesOut?: number };
      const before = first ? out.framesOut : undefined;
      media.speak(it.utteranceId, pcm);
      // An idle playout sends the first frame at once (inside speak); queued behind another reply, it waits its turn.
      if (before !== undefined && out.framesOut !== before) this.deps.metrics.bridgeLatency(performance.now() - receivedAt);
      return;
    }
    const utt = it.utteranceId;
    const item = it;
    (this.#down ??= new DeltaResampler(media.sampleRate)).push(pcm, (out) => {
      if (!item.cut) this.call.media?.speak(utt, out);
    });
  }

  #endItem(it: AgentItem | undefined): void {
    if (!it || it.ended) return;
    it.ended = true;
    if (it.cut) return;
    const utt = it.utteranceId;
    if (this.#down) this.#down.after(() => this.call.media?.endUtterance(utt));
    else this.call.media?.endUtterance(utt);
  }

  #onUserText(itemId: string, text: string): void {
    const seq = this.#userSeq.get(itemId) ?? this.call.nextSeq++;
    this.#userSeq.delete(itemId);
    const t = text.trim();
    if (t.length === 0) return;
    void this.#append({ seq, speaker: 'user', text: t, at: this.deps.clock.now(), kind: 'speech', confidence: 1 });
  }

  /** Runs a tool (bounded, never throws), stores it as a tool turn, answers the model, lets it go on. */
  async #onFunctionCall(callId: string, name: string, args: string): Promise<void> {
    const seq = this.call.nextSeq++;
    const at = this.deps.clock.now();
    const out = await runTool(this.deps.tools, this.deps.conversations, this.call.callId, name, args);
    if (!out.ok) this.call.log.warn({ tool: name }, 'tool call failed; the model is told');
    void this.#append({ seq, speaker: 'tool', text: out.record, at });
    const link = this.#link;
    if (!link || this.state !== 'ready') return;
    link.send(encodeFunctionOutput(callId, out.output));
    link.send(encodeResponseCreate());
  }

  /** A tool asked for an action (end_call, transfer_to_agent): carried out once the next reply has played. */
  act(action: ToolAction): void {
    this.#action = action;
  }

  #usage(u: RealtimeUsage): void {
    this.counters.inputTokens += u.inputTokens;
    this.counters.outputTokens += u.outputTokens;
  }

  // ---- call events ----

  #frame(pcm: Int16Array): void {
    this.counters.audioInMs += 20;
    const link = this.#link;
    if (link === null || this.state !== 'ready') return;
    if (pcm.length === 480) {
      link.send(encodeAppend(pcm));
      return;
    }
    link.send(encodeAppend((this.#up ??= new FrameUpsampler(pcm.length)).push(pcm)));
  }

  #onMediaConnected(reconnect: boolean, _rate: number): void {
    if (reconnect || this.call.nextSeq > 1) return;
    if (this.state === 'ready' && this.#link) this.#link.send(encodeResponseCreate(GREETING));
    else this.#greet = true;
  }

  #onBargeIn(utteranceId: string | null, playedMs: number): void {
    this.#paused = false;
    const it = utteranceId ? this.#byUtterance.get(utteranceId) : undefined;
    this.deps.metrics.bargeIn(this.#modelBarge ? 'model' : 'local');
    if (!it || it.cut) return;
    it.cut = true;
    this.#cut.add(it.responseId);
    const link = this.#link;
    if (!link) return;
    if (this.#activeResponse === it.responseId) {
      link.send(encodeResponseCancel());
      this.#activeResponse = null;
    }
    link.send(encodeTruncate(it.id, Math.min(playedMs, Math.floor(it.audioMs))));
    this.counters.truncates++;
  }

  #onPlayoutDone(utteranceId: string, interrupted: boolean, playedMs: number, totalMs: number): void {
    const it = this.#byUtterance.get(utteranceId);
    if (!it) return;
    this.#record(it, interrupted, playedMs, totalMs);
  }

  /** The call is going away: replies still playing are recorded now, as interrupted, estimated by time. */
  #flush(): void {
    const now = this.deps.clock.monotonic();
    for (const it of [...this.#byUtterance.values()]) {
      const played = Math.min(it.audioMs, Math.max(0, now - it.firstAt));
      this.#record(it, played < it.audioMs, played, it.audioMs);
    }
  }

  #record(it: AgentItem, interrupted: boolean, playedMs: number, totalMs: number): void {
    this.#byUtterance.delete(it.utteranceId);
    this.#items.delete(it.id);
    const text = interrupted ? playedText(it.text, playedMs, totalMs) : it.text;
    const turn: Turn = interrupted
      ? { seq: it.seq, speaker: 'assistant', text, at: it.at, interrupted: true, playedMs: Math.round(playedMs) }
      : { seq: it.seq, speaker: 'assistant', text, at: it.at, playedMs: Math.round(playedMs) };
    const action = it.responseId !== '' && this.#action !== null && !interrupted ? this.#action : null;
    if (action !== null) this.#action = null;
    void this.#append(turn).then(() => {
      if (it.hangup) return this.#hangUp();
      if (action === 'hangup') return this.#hangUp('agent-hangup');
      // The model's reply announced it; CallTransfers (call-transfer.ts) requests it through Call Automation.
      if (action === 'transfer') this.call.events.emit('transferRequested', { announced: true });
      return undefined;
    });
  }

  /** A fixed line in the local voice (filler, goodbye); true when it was queued. */
  async #speakLine(line: string, hangup: boolean): Promise<boolean> {
    const { synthesizer } = this.deps;
    const media = this.call.media;
    if (!synthesizer || !media) return false;
    try {
      const pcm = await synthesizer.synthesize(line, media.sampleRate, AbortSignal.timeout(5000));
      const outlet = this.call.media;
      if (!outlet || this.state === 'closed') return false;
      const id = `${this.call.callId}-rtline${++this.#n}`;
      const it: AgentItem = { id, responseId: '', utteranceId: id, seq: this.call.nextSeq++, at: this.deps.clock.now(), firstAt: this.deps.clock.monotonic(), text: line, audioMs: (pcm.length * 1000) / outlet.sampleRate, ended: true, cut: false, hangup };
      this.#byUtterance.set(id, it);
      outlet.speak(id, pcm);
      outlet.endUtterance(id);
      return true;
    } catch (err) {
      this.call.log.warn({ err }, 'line not spoken');
      return false;
    }
  }

  async #append(turn: Turn): Promise<void> {
    try {
      await this.deps.conversations.appendTurn(this.call.callId, turn);
    } catch (err) {
      this.call.log.error({ err, seq: turn.seq, speaker: turn.speaker }, 'could not store turn');
    }
  }

  async #hangUp(context: 'responder-failed' | 'agent-hangup' = 'responder-failed'): Promise<void> {
    const id = this.call.callConnectionId;
    if (!this.deps.callControl || !id) return;
    try {
      await this.deps.callControl.hangUp(id, context);
    } catch (err) {
      this.call.log.error({ err }, 'hang-up after realtime failure failed');
    }
  }

  #timing(t: TurnTiming): void {
    this.timings.push(t);
    if (this.timings.length > 100) this.timings.shift();
  }
}
