// One simulated ACS media stream: a WebSocket client to the worker's transportUrl. Sends AudioMetadata
// first, then one AudioData per tick of the shared FrameClock (caller speech or silence, pre-built
// frames stamped with the tick's time, see client-frames.ts), transcription results timed to the
// speech, DTMF tones; receives the worker's audioData / stopAudio.
// The agent's audio is played out as a phone would: received frames queue up and one leaves per tick;
// stopAudio discards what is still queued (counted per stopAudio). With `echoDb` set, what is played
// comes back in the caller's stream ECHO_DELAY_TICKS later at that level (a line with poor echo
// cancellation); those frames are built per tick (the pre-built bodies cannot carry a mix).
import type { RawData } from 'ws';
import type { CallerVoice, EncodedUtterance } from './caller-audio.js';
import { audioBodies, audioShape, silenceBody, type AudioBody, type AudioShape } from './client-frames.js';
import type { ClockTick, FrameClock, TickSubscriber } from './frame-clock.js';
import { FRAME_MS, base64DecodedLength } from './frame-math.js';
import type { SimIdentity } from './identity.js';
import { audioDataHead, audioDataTail, audioMetadata, dtmfData, transcriptionData, transcriptionMetadata } from './media-messages.js';
import { MediaSocket } from './media-socket.js';
import { MAX_CAPTURE_BYTES, type SimCall } from './sim-call.js';
import type { SimStats } from './sim-stats.js';

export interface MediaLinkOptions {
  readonly url: string;
  /**
   * transcriptionOptions.transportUrl. When it differs from `url`, transcription gets its own socket
   * (its own subscription, TranscriptionMetadata first), as ACS does; when equal, both share one.
   */
  readonly transcriptionUrl?: string | undefined;
  readonly participantRawId: string | undefined;
  readonly callerRawId: string;
  readonly transcription: { readonly locale: string; readonly intermediate: boolean } | undefined;
  readonly dtmf: boolean;
  /** The agent's audio returns in the caller's stream at this level (dB, e.g. -25); off when undefined. */
  readonly echoDb?: number | undefined;
}

/** Echo path delay: played frame → back in the caller's stream. */
const ECHO_DELAY_TICKS = 2;
/** Agent frames a phone buffers at most (more are dropped as overflow). */
const MAX_PLAYOUT_FRAMES = 250;

/** Final transcript goes out this many ticks after the utterance's last frame (~200 ms). */
const FINAL_DELAY_TICKS = 10;
const DTMF_GAP_TICKS = 10;
/** Stop writing to a socket that has this much unsent data (counted as dropped frames). */
const MAX_BUFFERED = 512 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface Waiter {
  readonly since: number;
  readonly resolve: (t: number | undefined) => void;
}

export class MediaLink implements TickSubscriber {
  private sock: MediaSocket | undefined;
  /** The transcription socket, when transcription has a URL of its own. */
  private trSock: MediaSocket | undefined;
  private open = false;
  private closing = false;
  private startTick = -1;
  private readonly silenceBody: AudioBody;
  private readonly speechShape: AudioShape;
  private readonly silenceShape: AudioShape;
  private speech: EncodedUtterance | undefined;
  private speechBodies: AudioBody[] = [];
  private speechPos = 0;
  private speechStartTick = 0;
  private finalDueTick = -1;
  private finalMessage = '';
  private finalResolve: ((t: number) => void) | undefined;
  private dtmfQueue: string[] = [];
  private nextDtmfTick = 0;
  private dtmfResolve: (() => void) | undefined;
  private lastOutboundAt = 0;
  /** Agent frames received and not yet played (PCM only with echo on; otherwise counted). */
  private playQueue: Buffer[] = [];
  private queuedFrames = 0;
  /** Played agent frames on their way back as echo (oldest first). */
  private echoLine: (Buffer | undefined)[] = [];
  private readonly echoGain: number;
  private readonly echoMix: Buffer;
  private transcribeSpeech = true;
  private audioWaiters: Waiter[] = [];
  private stopWaiters: Waiter[] = [];
  /** Called when the worker (not the simulator) closes or drops the socket. */
  onUnexpectedClose: (code: number) => void = () => undefined;
  /** Called when the worker closes or drops the transcription socket (when it is one of its own). */
  onTranscriptionLost: (code: number) => void = () => undefined;

  constructor(
    private readonly call: SimCall,
    private readonly opts: MediaLinkOptions,
    private readonly voice: CallerVoice,
    private readonly clock: FrameClock,
    private readonly identity: SimIdentity,
    private readonly stats: SimStats,
  ) {
    this.silenceBody = silenceBody(voice.silenceFrame);
    this.speechShape = audioShape(this.silenceBody.length, opts.participantRawId, false);
    this.silenceShape = audioShape(this.silenceBody.length, opts.participantRawId, true);
    this.echoGain = opts.echoDb === undefined ? 0 : 10 ** (opts.echoDb / 20);
    this.echoMix = Buffer.alloc(opts.echoDb === undefined ? 0 : voice.frameBytes);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /**
   * Opens the socket (Authorization + ACS headers) and starts streaming; rejects if the upgrade fails.
   * `transcription`: a transcription socket still open from the call's previous stream (its own
   * subscription, unaffected by the audio stream's loss) is kept instead of opening another.
   */
  async connect(transcription?: MediaSocket): Promise<void> {
    this.closing = false;
    const token = await this.identity.token();
    const ccid = this.call.callConnectionId ?? '';
    const sock = await MediaSocket.open({
      url: this.opts.url,
      headers: { authorization: `Bearer ${token}`, 'x-ms-call-connection-id': ccid, 'x-ms-call-correlation-id': this.call.correlationId },
    });
    this.sock = sock;
    if (this.closing) {
      // close() ran while the upgrade was in flight: do not start streaming on the new socket.
      sock.close(1000);
      return;
    }
    sock.onMessage((data, isBinary) => this.receive(data, isBinary));
    sock.onClose((code) => {
      const wasOpen = this.open;
      this.open = false;
      this.clock.remove(this);
      if (wasOpen && !this.closing) this.onUnexpectedClose(code);
    });
    this.call.mediaConnections++;
    this.open = true;
    const sub = `${this.call.callConnectionId}-${this.call.mediaConnections}`;
    sock.sendText(audioMetadata(sub, this.voice.sampleRate, this.voice.frameBytes));
    const tr = this.opts.transcription;
    if (this.separateTranscription) {
      if (transcription?.open) this.watchTranscription(transcription);
      else await this.openTranscription();
    } else if (tr) {
      sock.sendText(transcriptionMetadata(sub, tr.locale, ccid, this.call.correlationId));
    }
    this.startTick = -1;
    this.clock.add(this);
  }

  private get separateTranscription(): boolean {
    const trUrl = this.opts.transcriptionUrl;
    return this.opts.transcription !== undefined && trUrl !== undefined && trUrl !== this.opts.url;
  }

  /** Opens the call's transcription socket (its own transportUrl and subscription, TranscriptionMetadata first). */
  async openTranscription(): Promise<void> {
    const tr = this.opts.transcription;
    const trUrl = this.opts.transcriptionUrl;
    if (!tr || !trUrl || this.trSock?.open) return;
    const ccid = this.call.callConnectionId ?? '';
    const trSock = await MediaSocket.open({
      url: trUrl,
      headers: { authorization: `Bearer ${await this.identity.token()}`, 'x-ms-call-connection-id': ccid, 'x-ms-call-correlation-id': this.call.correlationId },
    });
    if (this.closing) {
      trSock.close(1000);
      return;
    }
    this.call.transcriptionConnections = (this.call.transcriptionConnections ?? 0) + 1;
    trSock.onMessage(() => this.violation('message from the worker on the transcription socket'));
    this.watchTranscription(trSock);
    trSock.sendText(transcriptionMetadata(`${ccid}-${this.call.transcriptionConnections}-transcription`, tr.locale, ccid, this.call.correlationId));
  }

  private watchTranscription(trSock: MediaSocket): void {
    this.trSock = trSock;
    trSock.onClose((code) => {
      if (this.trSock !== trSock) return;
      this.trSock = undefined;
      if (!this.closing) this.onTranscriptionLost(code);
    });
  }

  /** Hands the open transcription socket over to the call's next stream (the audio stream was lost). */
  detachTranscription(): MediaSocket | undefined {
    const t = this.trSock;
    this.trSock = undefined;
    return t?.open ? t : undefined;
  }

  get transcriptionOpen(): boolean {
    return !this.separateTranscription || this.trSock?.open === true;
  }

  /** Closes the socket from the simulator's side (call ended or a deliberate drop). */
  close(code = 1000, drop = false): void {
    this.closing = true;
    this.clock.remove(this);
    this.open = false;
    if (this.trSock) {
      if (drop) this.trSock.terminate();
      else this.trSock.close(code);
    }
    if (!this.sock) return;
    if (drop) this.sock.terminate();
    else this.sock.close(code);
  }

  /**
   * Transcription results go on the transcription socket when transcription has its own URL (none
   * is sent while that socket is down: ACS cannot deliver them either), else on the media socket.
   */
  private sendTranscription(text: string): boolean {
    const t = this.separateTranscription ? this.trSock : this.sock;
    if (!t?.open) return false;
    t.sendText(text);
    return true;
  }

  /** Sends a TranscriptionData for `words` as another participant (e.g. the agent's own leg). */
  sendTranscriptAs(words: readonly string[], participantRawId: string): void {
    if (!this.open) return;
    this.sendTranscription(transcriptionData(words, 0, 0, participantRawId, 'Final'));
    this.stats.framesSent++;
  }

  /**
   * Starts speaking an utterance; `onsetAt` resolves when its first voiced frame is sent, `done` once
   * the Final transcript is sent (or, with `transcribe` false — a backchannel — when the sound ends).
   */
  say(u: EncodedUtterance, transcribe = true): { onsetAt: Promise<number>; done: Promise<number> } {
    let onset!: (t: number) => void;
    const onsetAt = new Promise<number>((r) => (onset = r));
    const done = new Promise<number>((resolve) => {
      this.finalResolve?.(performance.now());
      this.finalResolve = resolve;
    });
    this.speech = u;
    this.speechBodies = audioBodies(u.frames);
    this.speechPos = 0;
    this.finalDueTick = -1;
    this.onsetResolve = onset;
    this.transcribeSpeech = transcribe;
    return { onsetAt, done };
  }
  private onsetResolve: ((t: number) => void) | undefined;

  sendDtmf(tones: string): Promise<void> {
    this.dtmfQueue.push(...tones.split(''));
    return new Promise((resolve) => (this.dtmfResolve = resolve));
  }

  sendRaw(messages: readonly string[]): void {
    if (!this.open || !this.sock?.open) return;
    for (const m of messages) {
      this.sock.sendText(m);
      this.stats.framesSent++;
    }
  }

  get agentTalking(): boolean {
    return this.lastOutboundAt > 0 && performance.now() - this.lastOutboundAt < 5 * FRAME_MS;
  }

  get lastAgentAudioAt(): number {
    return this.lastOutboundAt;
  }

  /** Resolves with the arrival time of the first agent frame at or after `since` (or undefined on timeout). */
  waitAgentAudio(since: number, timeoutMs: number): Promise<number | undefined> {
    if (this.lastOutboundAt > 0 && this.lastOutboundAt >= since) return Promise.resolve(this.lastOutboundAt);
    return this.wait(this.audioWaiters, since, timeoutMs);
  }

  waitStopAudio(since: number, timeoutMs: number): Promise<number | undefined> {
    const last = this.call.stopAudioTimes[this.call.stopAudioTimes.length - 1];
    if (last !== undefined && last + this.call.offeredAt >= since) return Promise.resolve(last + this.call.offeredAt);
    return this.wait(this.stopWaiters, since, timeoutMs);
  }

  private wait(list: Waiter[], since: number, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = list.indexOf(w);
        if (i >= 0) list.splice(i, 1);
        resolve(undefined);
      }, timeoutMs);
      const w: Waiter = { since, resolve: (at) => (clearTimeout(t), resolve(at)) };
      list.push(w);
    });
  }

  private static release(list: Waiter[], at: number): void {
    for (let i = list.length - 1; i >= 0; i--) {
      const w = list[i] as Waiter;
      if (at >= w.since) {
        list.splice(i, 1);
        w.resolve(at);
      }
    }
  }

  /**
   * Resolves every pending wait with undefined (the call ended, or its stream was lost: then an
   * utterance in progress resolves with -1, it was not heard).
   */
  cancelWaits(interrupted = false): void {
    for (const w of this.audioWaiters.splice(0)) w.resolve(undefined);
    for (const w of this.stopWaiters.splice(0)) w.resolve(undefined);
    if (interrupted) {
      this.onsetResolve?.(-1);
      this.onsetResolve = undefined;
    }
    this.finalResolve?.(interrupted && (this.speech !== undefined || this.finalDueTick >= 0) ? -1 : performance.now());
    this.finalResolve = undefined;
    this.dtmfResolve?.();
    this.dtmfResolve = undefined;
  }

  onTick(now: ClockTick): void {
    const sock = this.sock;
    if (!this.open || !sock?.open) return;
    const tick = now.tick;
    if (this.startTick < 0) this.startTick = tick;
    if (sock.buffered > MAX_BUFFERED) {
      this.stats.framesDropped++;
      return;
    }
    const echo = this.playOut();
    const u = this.speech;
    if (u) {
      if (this.speechPos === 0) this.speechStartTick = tick;
      if (this.speechPos === u.onsetFrame) {
        this.onsetResolve?.(performance.now());
        this.onsetResolve = undefined;
      }
      if (echo) sock.sendText(this.mixed(u.frames[this.speechPos] as string, echo, now.iso));
      else sock.writeFrame((this.speechBodies[this.speechPos] as AudioBody).frameAt(now.atMs, now.iso, this.speechShape));
      this.speechPos++;
      const t = this.transcribeSpeech ? this.opts.transcription : undefined;
      const offsetMs = (this.speechStartTick - this.startTick) * FRAME_MS;
      if (t?.intermediate && this.speechPos === Math.ceil(u.frames.length / 2)) {
        const half = u.words.slice(0, Math.max(1, Math.floor(u.words.length / 2)));
        this.sendTranscription(transcriptionData(half, offsetMs, this.speechPos * FRAME_MS, this.opts.callerRawId, 'Intermediate'));
        this.stats.framesSent++;
      }
      if (this.speechPos >= u.frames.length) {
        this.speech = undefined;
        this.finalDueTick = tick + FINAL_DELAY_TICKS;
        this.finalMessage = t ? transcriptionData(u.words, offsetMs, u.durationMs, this.opts.callerRawId, 'Final') : '';
        // A backchannel has no transcript: done when the sound ends.
        if (!this.transcribeSpeech) this.finalDueTick = tick;
      }
    } else if (echo) {
      sock.sendText(this.mixed(this.voice.silenceFrame, echo, now.iso));
    } else {
      sock.writeFrame(this.silenceBody.frameAt(now.atMs, now.iso, this.silenceShape));
    }
    this.stats.framesSent++;
    if (this.finalDueTick >= 0 && tick >= this.finalDueTick) {
      this.finalDueTick = -1;
      let heard = true;
      if (this.finalMessage) {
        heard = this.sendTranscription(this.finalMessage);
        if (heard) this.stats.framesSent++;
      }
      // -1: the final result could not be delivered (transcription socket down), the turn was not heard.
      this.finalResolve?.(heard ? performance.now() : -1);
      this.finalResolve = undefined;
    }
    if (this.dtmfQueue.length > 0 && tick >= this.nextDtmfTick) {
      const tone = this.dtmfQueue.shift() as string;
      if (this.opts.dtmf) {
        sock.sendText(dtmfData(tone));
        this.stats.framesSent++;
      }
      this.nextDtmfTick = tick + DTMF_GAP_TICKS;
      if (this.dtmfQueue.length === 0) {
        this.dtmfResolve?.();
        this.dtmfResolve = undefined;
      }
    }
  }

  /** One agent frame leaves the phone's playout queue per tick; returns the echo due now, if any. */
  private playOut(): Buffer | undefined {
    if (this.queuedFrames > 0) {
      this.queuedFrames--;
      this.call.heardFrames++;
    }
    if (this.echoGain === 0) return undefined;
    this.echoLine.push(this.playQueue.shift());
    return this.echoLine.length > ECHO_DELAY_TICKS ? this.echoLine.shift() : undefined;
  }

  /** The caller's frame (base64) with the echo mixed in, as an AudioData message. */
  private mixed(b64: string, echo: Buffer, iso: string): string {
    const out = this.echoMix;
    out.write(b64, 0, 'base64');
    const g = this.echoGain;
    this.call.echoFrames++;
    for (let i = 0; i + 1 < out.length && i + 1 < echo.length; i += 2) {
      const v = out.readInt16LE(i) + Math.round(echo.readInt16LE(i) * g);
      out.writeInt16LE(Math.max(-32768, Math.min(32767, v)), i);
    }
    return `${audioDataHead(out.toString('base64'))}${iso}${audioDataTail(this.opts.participantRawId, false)}`;
  }

  private receive(data: RawData, isBinary: boolean): void {
    const now = performance.now();
    if (isBinary) return this.violation('binary message on the media socket');
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString()) as Record<string, unknown>;
    } catch {
      return this.violation('outbound message is not JSON');
    }
    const kind = typeof msg.kind === 'string' ? msg.kind : typeof msg.Kind === 'string' ? msg.Kind : '';
    const lower = kind.toLowerCase();
    if (lower === 'audiodata') {
      const body = (msg.audioData ?? msg.AudioData) as Record<string, unknown> | undefined;
      const b64 = body ? (body.data ?? body.Data) : undefined;
      if (typeof b64 !== 'string' || b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) return this.violation('audioData without valid base64 data');
      const bytes = base64DecodedLength(b64);
      if (bytes % this.voice.frameBytes !== 0) return this.violation(`audioData of ${bytes} bytes is not whole ${this.voice.frameBytes}-byte frames`);
      const frames = bytes / this.voice.frameBytes;
      if (this.lastOutboundAt > 0 && now - this.lastOutboundAt < 10 * FRAME_MS) this.stats.recordOutboundInterval(now - this.lastOutboundAt);
      this.lastOutboundAt = now;
      this.call.outboundFrames += frames;
      const cap = this.call.outboundAudio;
      const captured = this.call.outboundAudioBytes ?? 0;
      if (cap && captured + bytes <= MAX_CAPTURE_BYTES) {
        cap.push({ at: now - this.call.offeredAt, pcm: Buffer.from(b64, 'base64') });
        this.call.outboundAudioBytes = captured + bytes;
      }
      this.stats.framesReceived += frames;
      if (this.queuedFrames + frames <= MAX_PLAYOUT_FRAMES) {
        this.queuedFrames += frames;
        if (this.echoGain > 0) {
          const pcm = Buffer.from(b64, 'base64');
          for (let f = 0; f < frames; f++) this.playQueue.push(pcm.subarray(f * this.voice.frameBytes, (f + 1) * this.voice.frameBytes));
        }
      }
      if (this.call.firstAgentAudioAt === undefined) this.call.firstAgentAudioAt = now - this.call.offeredAt;
      if (this.audioWaiters.length > 0) MediaLink.release(this.audioWaiters, now);
    } else if (lower === 'stopaudio') {
      this.call.stopAudioTimes.push(now - this.call.offeredAt);
      // ACS discards the audio it holds but has not played.
      this.call.stopDiscardedFrames.push(this.queuedFrames);
      this.queuedFrames = 0;
      this.playQueue.length = 0;
      this.stats.stopAudioReceived++;
      if (this.stopWaiters.length > 0) MediaLink.release(this.stopWaiters, now);
    } else {
      this.violation(`unknown outbound kind ${JSON.stringify(kind).slice(0, 40)}`);
    }
  }

  private violation(what: string): void {
    this.stats.protocolViolations++;
    if (this.call.violations.length < 20) this.call.violations.push(what);
  }
}
