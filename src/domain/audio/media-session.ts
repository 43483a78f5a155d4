// The in-memory media state of one call: per-stream audio rings and voice activity, the outbound
// playout channel (the call's MediaOutlet), per-call counters, and barge-in. Built once per call with
// every field set; it survives socket reconnects (ACS re-establishes dropped streams) and is
// disposed when the call ends.
//
// Whose input counts: only the caller's. With unmixed audio every stream is tagged with its
// participantRawID, and transcription results always carry one ("Audio streaming concepts" and the
// real-time transcription how-to on learn.microsoft.com); the agent's own leg may be among them. Input
// tagged with another participant than the caller (call.callerRawId) never drives barge-in or a turn:
// it is dropped here and counted. Untagged input (mixed audio) and calls whose caller is unknown (a
// call resumed from a snapshot, which keeps only the masked number) are taken as the caller's.
//
// Barge-in (barge-in.ts): caller energy above the echo gate (echo-gate.ts) for two frames while the
// agent plays pauses playout (stopAudio at once); words (a transcript) or a tone during the pause
// confirm it (drop the reply, cancel the turn); no words within ~600 ms resumes where it stopped.
// The frame's level is computed in place on the inbound buffer; the WebRTC VAD still drives
// speechStart / speechEnd.
import { performance } from 'node:perf_hooks';
import type { LiveCall } from '../live-call.js';
import { BargeInDetector, type BargeInConfig } from './barge-in.js';
import { EchoGate, frameDb, type EchoGateConfig } from './echo-gate.js';
import { PcmRing } from './ring-buffer.js';
import { VadSmoother, type VoiceDetector, type VoiceDetectorFactory } from './vad.js';
import { PlayoutChannel, type PlayoutDone, type PlayoutSink } from './playout-channel.js';
import type { PlayoutScheduler } from './playout.js';

export interface MediaSessionConfig {
  readonly ringSeconds: number;
  readonly vadOnsetFrames: number;
  readonly vadHangoverMs: number;
  readonly sampleRate: number;
  readonly channels: 'mixed' | 'unmixed';
  /** Streams kept per call (unmixed audio has up to four dominant speakers). */
  readonly maxStreams: number;
  readonly bargeIn?: Partial<BargeInConfig>;
  readonly echoGate?: Partial<EchoGateConfig>;
}

export interface MediaSessionDeps {
  readonly call: LiveCall;
  readonly scheduler: PlayoutScheduler;
  readonly detectors: VoiceDetectorFactory;
  /** Monotonic ms (frame timing). */
  readonly monotonic: () => number;
  /** Wall clock ms (event timestamps). */
  readonly wall: () => number;
  readonly onBargeIn?: (cause: BargeInCause) => void;
  /** Playout paused for a possible barge-in, and how that pause ended. */
  readonly onPause?: (outcome: 'paused' | 'resumed' | 'confirmed') => void;
  /** Input from a participant other than the caller was ignored (first frame of a stream, or a transcript). */
  readonly onIgnoredParticipant?: (kind: 'audio' | 'transcript') => void;
}

/** Same participant? Phone numbers (raw id 4:+E.164) compare by digits; other raw ids exactly. */
export function sameParticipant(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.startsWith('4:') && b.startsWith('4:')) return a.replace(/\D/g, '') === b.replace(/\D/g, '');
  return false;
}

export type BargeInCause = 'vad' | 'transcript' | 'dtmf';

export interface MediaCounters {
  framesIn: number;
  silentFrames: number;
  /** Arrival gaps of more than three frame periods. */
  gaps: number;
  /** Frames arriving more than 1.5 frame periods after the previous one (but not a gap). */
  lateFrames: number;
  /** AudioData with a payload that is not whole PCM16 samples. */
  badFrames: number;
  /** Frames for a participant beyond maxStreams. */
  droppedStreams: number;
  /** Frames and transcripts of participants other than the caller (the agent's own leg, ...), ignored. */
  ignoredFrames: number;
  ignoredTranscripts: number;
  bargeIns: number;
  connects: number;
}

class Stream {
  readonly smoother: VadSmoother;
  lastArrival = -1;
  constructor(
    readonly participant: string | null,
    /** Computed once per stream: whether this stream is the caller's (no per-frame comparison). */
    readonly caller: boolean,
    readonly ring: PcmRing,
    readonly vad: VoiceDetector,
    cfg: MediaSessionConfig,
  ) {
    this.smoother = new VadSmoother({ onsetFrames: cfg.vadOnsetFrames, hangoverMs: cfg.vadHangoverMs, frameMs: 20 });
  }
}

export class MediaSession {
  readonly call: LiveCall;
  readonly playout: PlayoutChannel;
  readonly counters: MediaCounters = {
    framesIn: 0,
    silentFrames: 0,
    gaps: 0,
    lateFrames: 0,
    badFrames: 0,
    droppedStreams: 0,
    ignoredFrames: 0,
    ignoredTranscripts: 0,
    bargeIns: 0,
    connects: 0,
  };
  sampleRate: number;
  attached = false;
  disposed = false;
  readonly #streams = new Map<string, Stream>();
  readonly #echo: EchoGate;
  readonly #detector: BargeInDetector;
  /** The stream of the previous frame (mixed audio has one; unmixed speakers alternate in runs). */
  #last: Stream | null = null;

  constructor(
    private readonly deps: MediaSessionDeps,
    private readonly cfg: MediaSessionConfig,
  ) {
    this.call = deps.call;
    this.sampleRate = cfg.sampleRate;
    this.#echo = new EchoGate(cfg.echoGate);
    this.#detector = new BargeInDetector(cfg.bargeIn);
    this.playout = new PlayoutChannel(deps.scheduler, cfg.sampleRate, (d) => this.#done(d), this.#echo);
    this.call.requestBargeIn = (cause) => this.bargeIn(cause);
  }

  /** The echo gate (tests, logs). */
  get echoGate(): EchoGate {
    return this.#echo;
  }

  /** The playout is paused for a possible barge-in (waiting for words). */
  get bargeInPending(): boolean {
    return this.playout.paused;
  }

  /** A socket is open for this call: outbound audio goes to it, call.media points at this session. */
  attach(sink: PlayoutSink): void {
    this.attached = true;
    this.playout.attach(sink);
    this.call.media = this.playout;
  }

  /** AudioMetadata arrived on the attached socket. */
  metadata(sampleRate: number): void {
    if (sampleRate !== this.sampleRate) {
      this.#closeStreams();
      this.sampleRate = sampleRate;
      this.playout.setRate(sampleRate);
    }
    this.counters.connects++;
    this.call.events.emit('mediaConnected', { sampleRate, channels: this.cfg.channels, reconnect: this.counters.connects > 1 });
  }

  detach(code: number, reason: string): void {
    if (!this.attached) return;
    this.attached = false;
    this.playout.detach();
    if (this.call.media === this.playout) this.call.media = null;
    this.call.events.emit('mediaClosed', { code, reason });
  }

  /** One inbound frame of PCM16 (the array is only valid during the call). */
  audio(participant: string | null, pcm: Int16Array, silent: boolean): void {
    const c = this.counters;
    c.framesIn++;
    const s = this.#stream(participant);
    if (!s) {
      c.droppedStreams++;
      return;
    }
    const now = this.deps.monotonic();
    if (s.lastArrival >= 0) {
      const dt = now - s.lastArrival;
      if (dt > 60) c.gaps++;
      else if (dt > 30) c.lateFrames++;
    }
    s.lastArrival = now;
    if (!s.caller) {
      c.ignoredFrames++;
      return;
    }
    s.ring.write(pcm);
    const tap = this.call.inputTap;
    if (tap !== null) tap(pcm);
    this.#bargeInFrame(silent ? -120 : frameDb(pcm), now);
    let speech = false;
    if (silent) c.silentFrames++;
    else speech = s.vad.isSpeech(pcm);
    const t = s.smoother.push(speech);
    if (t === 'start') {
      this.call.events.emit('speechStart', { at: this.deps.wall(), participant });
    } else if (t === 'end') {
      this.call.events.emit('speechEnd', { at: this.deps.wall(), participant });
    }
  }

  badFrame(): void {
    this.counters.badFrames++;
  }

  /** One caller frame of level `db` (dBFS) for the barge-in detector. */
  #bargeInFrame(db: number, now: number): void {
    const p = this.playout;
    if (this.#detector.paused && !p.paused) this.#detector.clear(); // dropped meanwhile (stop, new turn)
    // The gate is consulted (and learns the line's echo) only while there is agent audio to echo.
    const voiced = p.speaking || p.paused ? this.#echo.judge(db, now) : db >= this.#echo.cfg.floorDb;
    const action = this.#detector.push(voiced, now, p.playing);
    if (action === 'pause') this.#pause(now);
    else if (action === 'resume') this.#resume(now);
  }

  #pause(now: number): void {
    const at = this.playout.pause(now);
    if (!at) {
      this.#detector.clear();
      return;
    }
    const stopAt = this.deps.monotonic();
    const o = this.#detector.onset;
    this.deps.onPause?.('paused');
    this.call.events.emit('playoutPaused', { at: this.deps.wall(), utteranceId: at.utteranceId, playedMs: at.playedMs });
    // Once per barge-in (never per frame): where the time went, in epoch ms on this machine's clock.
    this.call.log.info(
      {
        bargeIn: {
          frames: o.frames,
          firstVoicedAt: performance.timeOrigin + o.firstVoicedAt,
          onsetToDetectMs: o.detectedAt - o.firstVoicedAt,
          detectToStopMs: stopAt - o.detectedAt,
          stopAt: performance.timeOrigin + stopAt,
          rewoundMs: at.rewoundMs,
          gateDb: Math.round(this.#echo.threshold(now)),
        },
      },
      'barge-in pause',
    );
  }

  #resume(now: number): void {
    const pausedMs = this.#detector.pausedFor(now);
    const u = this.playout.current.utteranceId;
    if (!this.playout.resume()) return;
    this.deps.onPause?.('resumed');
    this.call.events.emit('playoutResumed', { at: this.deps.wall(), utteranceId: u, pausedMs });
  }

  dtmf(tone: string): void {
    this.call.events.emit('dtmf', { tone, at: this.deps.wall() });
    if (this.playout.speaking) this.bargeIn('dtmf');
  }

  /** Whether input tagged with `participant` is the caller's (see the header). */
  isCaller(participant: string | null): boolean {
    const caller = this.call.callerRawId;
    return participant === null || caller === null || sameParticipant(participant, caller);
  }

  transcript(text: string, final: boolean, confidence: number, participant: string | null): void {
    if (!this.isCaller(participant)) {
      this.counters.ignoredTranscripts++;
      this.deps.onIgnoredParticipant?.('transcript');
      this.call.events.emit('ignoredParticipant', { kind: 'transcript', participant: participant as string });
      return;
    }
    const words = text.trim().length > 0;
    // Words during a pause confirm the barge-in before the turn sees them (the reply is dropped
    // first, so the new turn does not count as superseding one).
    if (words && this.playout.paused) this.bargeIn('transcript');
    this.call.events.emit('transcript', { text, final, confidence, participant, at: this.deps.wall() });
    if (!final && words && this.playout.speaking) this.bargeIn('transcript');
  }

  /** The caller interrupted the agent: stopAudio, drop the queue, cancel the turn, report. */
  bargeIn(cause: BargeInCause): void {
    if (this.playout.paused) this.deps.onPause?.('confirmed');
    this.#detector.clear();
    const dropped = this.playout.drop();
    this.counters.bargeIns++;
    this.call.interruptTurn('barge-in');
    const first = dropped[0];
    this.call.events.emit('bargeIn', { at: this.deps.wall(), utteranceId: first ? first.utteranceId : null, playedMs: first ? first.playedMs : 0, cause });
    for (const d of dropped) this.call.events.emit('playoutDone', d);
    this.deps.onBargeIn?.(cause);
  }

  /** Bytes of audio storage this session holds. */
  get audioBytes(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.ring.byteSize;
    return n;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Frames captured for a stream (null = mixed). */
  ring(participant: string | null): PcmRing | null {
    return this.#streams.get(participant ?? '')?.ring ?? null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.playout.drop();
    this.playout.detach();
    if (this.call.media === this.playout) this.call.media = null;
    this.#closeStreams();
  }

  #stream(participant: string | null): Stream | null {
    const last = this.#last;
    if (last !== null && last.participant === participant) return last;
    const key = participant ?? '';
    const s = this.#streams.get(key);
    if (s) return (this.#last = s);
    if (this.#streams.size >= this.cfg.maxStreams || this.disposed) return null;
    const caller = this.isCaller(participant);
    if (!caller) {
      this.deps.onIgnoredParticipant?.('audio');
      this.call.events.emit('ignoredParticipant', { kind: 'audio', participant: participant as string });
    }
    const created = new Stream(participant, caller, new PcmRing(this.cfg.ringSeconds * this.sampleRate), this.deps.detectors(this.sampleRate), this.cfg);
    this.#streams.set(key, created);
    return (this.#last = created);
  }

  #closeStreams(): void {
    for (const s of this.#streams.values()) s.vad.close();
    this.#streams.clear();
    this.#last = null;
  }

  #done(d: PlayoutDone): void {
    this.call.events.emit('playoutDone', d);
  }
}
