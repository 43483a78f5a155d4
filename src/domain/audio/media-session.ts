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
import type { LiveCall } from '../live-call.js';
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
  /** The stream of the previous frame (mixed audio has one; unmixed speakers alternate in runs). */
  #last: Stream | null = null;

  constructor(
    private readonly deps: MediaSessionDeps,
    private readonly cfg: MediaSessionConfig,
  ) {
    this.call = deps.call;
    this.sampleRate = cfg.sampleRate;
    this.playout = new PlayoutChannel(deps.scheduler, cfg.sampleRate, (d) => this.#done(d));
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
    let speech = false;
    if (silent) c.silentFrames++;
    else speech = s.vad.isSpeech(pcm);
    const t = s.smoother.push(speech);
    if (t === 'start') {
      this.call.events.emit('speechStart', { at: this.deps.wall(), participant });
      if (this.playout.speaking) this.bargeIn('vad');
    } else if (t === 'end') {
      this.call.events.emit('speechEnd', { at: this.deps.wall(), participant });
    }
  }

  badFrame(): void {
    this.counters.badFrames++;
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
    this.call.events.emit('transcript', { text, final, confidence, participant, at: this.deps.wall() });
    if (!final && text.trim().length > 0 && this.playout.speaking) this.bargeIn('transcript');
  }

  /** The caller interrupted the agent: stopAudio, drop the queue, cancel the turn, report. */
  bargeIn(cause: BargeInCause): void {
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
