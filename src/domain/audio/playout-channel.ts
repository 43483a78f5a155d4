// One call's outbound audio: a queue of utterances cut into 20 ms frames at send time, how much of
// each has actually been sent (playedMs), and stop (stopAudio + drop). Implements MediaOutlet; the
// scheduler drives pump() from its single timer.
import type { MediaOutlet } from '../call-events.js';
import type { PlayoutScheduler } from './playout.js';

/** Where frames go: the media socket, as seen by the domain. */
export interface PlayoutSink {
  /** Bytes handed to the transport and not yet written. */
  bufferedAmount(): number;
  /** Sends exactly one frame of PCM16 (valid until the call returns). */
  sendFrame(pcm: Int16Array): void;
  sendStop(): void;
  /** Frames sent between cork and uncork may leave in one transport write. */
  cork?(): void;
  uncork?(): void;
}

export interface PlayoutDone {
  readonly utteranceId: string;
  readonly playedMs: number;
  readonly totalMs: number;
  readonly interrupted: boolean;
}

interface Utterance {
  readonly id: string;
  readonly chunks: Int16Array[];
  chunk: number;
  offset: number;
  queued: number;
  sent: number;
  ended: boolean;
}

export class PlayoutChannel implements MediaOutlet {
  sampleRate: number;
  #frameSamples: number;
  #frame: Int16Array;
  readonly #queue: Utterance[] = [];
  #sink: PlayoutSink | null = null;
  #nextDue: number | null = null;
  #slow = false;
  framesOut = 0;
  slowEpisodes = 0;

  constructor(
    private readonly scheduler: PlayoutScheduler,
    sampleRate: number,
    private readonly onDone: (done: PlayoutDone) => void,
  ) {
    this.sampleRate = sampleRate;
    this.#frameSamples = (sampleRate * scheduler.cfg.frameMs) / 1000;
    this.#frame = new Int16Array(this.#frameSamples);
  }

  get speaking(): boolean {
    return this.#queue.length > 0;
  }

  /** The utterance being played and how much of it was sent. */
  get current(): { utteranceId: string | null; playedMs: number } {
    const u = this.#queue[0];
    return { utteranceId: u ? u.id : null, playedMs: u ? this.#ms(u.sent) : 0 };
  }

  /** Changes the stream rate (AudioMetadata). Only while idle. */
  setRate(sampleRate: number): void {
    if (sampleRate === this.sampleRate || this.#queue.length > 0) return;
    this.sampleRate = sampleRate;
    this.#frameSamples = (sampleRate * this.scheduler.cfg.frameMs) / 1000;
    this.#frame = new Int16Array(this.#frameSamples);
  }

  attach(sink: PlayoutSink): void {
    this.#sink = sink;
    this.#nextDue = null;
    if (this.#queue.length > 0) this.scheduler.activate(this);
  }

  detach(): void {
    this.#sink = null;
    this.#nextDue = null;
    this.scheduler.deactivate(this);
  }

  speak(utteranceId: string, pcm: Int16Array): void {
    if (pcm.length === 0) {
      this.#utterance(utteranceId);
      return;
    }
    const u = this.#utterance(utteranceId);
    u.chunks.push(pcm);
    u.queued += pcm.length;
    if (this.#sink) this.scheduler.activate(this);
  }

  endUtterance(utteranceId: string): void {
    const u = this.#find(utteranceId);
    if (!u || u.ended) return;
    u.ended = true;
    if (this.#queue[0] === u && u.sent >= u.queued) this.#finish(false);
    else if (this.#sink) this.scheduler.activate(this);
  }

  /** stopAudio + drop everything queued; playoutDone(interrupted) for each dropped utterance. */
  stop(_cause: 'vad' | 'transcript' | 'dtmf' | 'hangup'): { utteranceId: string | null; playedMs: number } {
    const dropped = this.drop();
    for (const d of dropped) this.onDone(d);
    return dropped[0] ? { utteranceId: dropped[0].utteranceId, playedMs: dropped[0].playedMs } : { utteranceId: null, playedMs: 0 };
  }

  /** stopAudio + drop, returning what was dropped without reporting it (barge-in reports in order). */
  drop(): PlayoutDone[] {
    if (this.#sink) this.#sink.sendStop();
    const out = this.#queue.map((u) => ({ utteranceId: u.id, playedMs: this.#ms(u.sent), totalMs: this.#ms(u.queued), interrupted: true }));
    this.#queue.length = 0;
    this.#nextDue = null;
    this.scheduler.deactivate(this);
    return out;
  }

  /** Sends what is due. Returns false when the channel has nothing more to do until new audio arrives. */
  pump(now: number, slot: number, s: PlayoutScheduler): boolean {
    const sink = this.#sink;
    if (!sink || this.#queue.length === 0) return false;
    if (this.#nextDue === null) this.#nextDue = slot;
    // Everything this wake-up sends to the socket leaves in one write.
    sink.cork?.();
    try {
      return this.#send(sink, now, slot, s);
    } finally {
      sink.uncork?.();
    }
  }

  #send(sink: PlayoutSink, now: number, slot: number, s: PlayoutScheduler): boolean {
    const { frameMs, maxBurst, maxLagMs, maxBufferedBytes, leadMs } = s.cfg;
    const horizon = now + leadMs;
    let burst = 0;
    while ((this.#nextDue as number) <= horizon && burst < maxBurst) {
      if (sink.bufferedAmount() > maxBufferedBytes) {
        if (!this.#slow) {
          this.#slow = true;
          this.slowEpisodes++;
          s.hooks.onSlowSocket();
        }
        this.#nextDue = null; // paused: re-anchor once the socket drains
        return true;
      }
      this.#slow = false;
      const u = this.#queue[0];
      if (!u) return false;
      if (u.ended && u.sent >= u.queued) {
        this.#finish(false);
        continue;
      }
      const n = this.#take(u);
      if (n === 0) {
        this.#nextDue = null; // underrun: wait for more audio, then re-anchor
        return false;
      }
      sink.sendFrame(this.#frame);
      this.framesOut++;
      s.hooks.onFrameSent(now - (this.#nextDue as number));
      u.sent += n;
      this.#nextDue = (this.#nextDue as number) + frameMs;
      burst++;
      if (u.ended && u.sent >= u.queued) this.#finish(false);
      if (this.#queue.length === 0) {
        this.#nextDue = null;
        return false;
      }
    }
    if (now - (this.#nextDue as number) > maxLagMs) {
      this.#nextDue = slot + frameMs;
      s.hooks.onResync();
    }
    return true;
  }

  /** Copies the next frame of `u` into the frame scratch (zero-padded at the end). Returns samples taken. */
  #take(u: Utterance): number {
    const want = this.#frameSamples;
    const available = u.queued - u.sent;
    if (available < want && !u.ended) return 0;
    let filled = 0;
    while (filled < want && u.chunk < u.chunks.length) {
      const c = u.chunks[u.chunk] as Int16Array;
      const take = Math.min(want - filled, c.length - u.offset);
      this.#frame.set(c.subarray(u.offset, u.offset + take), filled);
      filled += take;
      u.offset += take;
      if (u.offset >= c.length) {
        u.chunks[u.chunk] = EMPTY; // release what was sent
        u.chunk++;
        u.offset = 0;
      }
    }
    if (filled < want) this.#frame.fill(0, filled);
    return filled;
  }

  #finish(interrupted: boolean): void {
    const u = this.#queue.shift();
    if (u) this.onDone({ utteranceId: u.id, playedMs: this.#ms(u.sent), totalMs: this.#ms(u.queued), interrupted });
  }

  #utterance(id: string): Utterance {
    const last = this.#queue[this.#queue.length - 1];
    if (last && last.id === id && !last.ended) return last;
    const u: Utterance = { id, chunks: [], chunk: 0, offset: 0, queued: 0, sent: 0, ended: false };
    this.#queue.push(u);
    return u;
  }

  #find(id: string): Utterance | undefined {
    for (let i = this.#queue.length - 1; i >= 0; i--) if (this.#queue[i]?.id === id) return this.#queue[i];
    return undefined;
  }

  #ms(samples: number): number {
    return Math.round((samples * 1000) / this.sampleRate);
  }
}

const EMPTY = new Int16Array(0);
