// One call's outbound audio: a queue of utterances cut into 20 ms frames at send time, how much of
// each has actually been sent (playedMs), stop (stopAudio + drop), and pause / resume for a possible
// barge-in (barge-in.ts): pause sends stopAudio, which makes ACS discard the audio it holds but has
// not played ("Audio streaming: stop audio" in the bidirectional streaming how-to, learn.microsoft.com),
// so the head utterance is rewound to the frame the caller was hearing (frames whose due time had not
// come yet) and resume sends from there. The last `keepMs` of sent audio stay referenced for that
// rewind; older chunks are released as before. Implements MediaOutlet; the scheduler drives pump()
// from its single timer. Every frame sent is reported to the echo gate (its level and due time).
import type { MediaOutlet } from '../call-events.js';
import { frameDb, type EchoGate } from './echo-gate.js';
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
  /** First chunk not yet released, and the sample position where it starts. */
  relChunk: number;
  relStart: number;
}

/** Sent audio kept for a rewind on pause: more than any playout lead. */
const KEEP_MS = 200;

export class PlayoutChannel implements MediaOutlet {
  sampleRate: number;
  #frameSamples: number;
  #frame: Int16Array;
  readonly #queue: Utterance[] = [];
  #sink: PlayoutSink | null = null;
  #nextDue: number | null = null;
  #slow = false;
  /** Due time of the last frame sent (kept across underruns: what ACS still holds). */
  #lastDue = Number.NEGATIVE_INFINITY;
  #paused = false;
  framesOut = 0;
  slowEpisodes = 0;

  constructor(
    private readonly scheduler: PlayoutScheduler,
    sampleRate: number,
    private readonly onDone: (done: PlayoutDone) => void,
    private readonly echo: EchoGate | null = null,
  ) {
    this.sampleRate = sampleRate;
    this.#frameSamples = (sampleRate * scheduler.cfg.frameMs) / 1000;
    this.#frame = new Int16Array(this.#frameSamples);
  }

  /** Something is queued (playing, or paused by a possible barge-in). */
  get speaking(): boolean {
    return this.#queue.length > 0;
  }

  /** Audio is queued and being sent (not paused). */
  get playing(): boolean {
    return this.#queue.length > 0 && !this.#paused;
  }

  get paused(): boolean {
    return this.#paused;
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
    if (this.#queue.length > 0 && !this.#paused) this.scheduler.activate(this);
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
    if (this.#sink && !this.#paused) this.scheduler.activate(this);
  }

  endUtterance(utteranceId: string): void {
    const u = this.#find(utteranceId);
    if (!u || u.ended) return;
    u.ended = true;
    if (this.#queue[0] === u && u.sent >= u.queued) this.#finish(false);
    else if (this.#sink && !this.#paused) this.scheduler.activate(this);
  }

  /** stopAudio + drop everything queued; playoutDone(interrupted) for each dropped utterance. */
  stop(_cause: 'vad' | 'transcript' | 'dtmf' | 'hangup'): { utteranceId: string | null; playedMs: number } {
    const dropped = this.drop();
    for (const d of dropped) this.onDone(d);
    return dropped[0] ? { utteranceId: dropped[0].utteranceId, playedMs: dropped[0].playedMs } : { utteranceId: null, playedMs: 0 };
  }

  /** stopAudio + drop, returning what was dropped without reporting it (barge-in reports in order). */
  drop(): PlayoutDone[] {
    // Paused: stopAudio already went out and nothing was sent since.
    if (this.#sink && !this.#paused) this.#sink.sendStop();
    this.#paused = false;
    const out = this.#queue.map((u) => ({ utteranceId: u.id, playedMs: this.#ms(u.sent), totalMs: this.#ms(u.queued), interrupted: true }));
    this.#queue.length = 0;
    this.#nextDue = null;
    this.scheduler.deactivate(this);
    return out;
  }

  /**
   * stopAudio now, keeping the queue: the head utterance is rewound to the frame due at `now` (what
   * ACS was playing; the frames sent ahead of it are discarded there). Returns the position heard, or
   * null when nothing was playing.
   */
  pause(now: number): { utteranceId: string; playedMs: number; rewoundMs: number } | null {
    const u = this.#queue[0];
    if (!u || this.#paused) return null;
    this.#sink?.sendStop();
    this.#paused = true;
    this.#nextDue = null;
    this.scheduler.deactivate(this);
    const frameMs = this.scheduler.cfg.frameMs;
    const ahead = this.#lastDue > now ? Math.ceil((this.#lastDue - now) / frameMs) : 0;
    const target = Math.max(u.relStart, u.sent - ahead * this.#frameSamples);
    const rewound = u.sent - target;
    if (rewound > 0) this.#seek(u, target);
    this.#lastDue = Number.NEGATIVE_INFINITY;
    return { utteranceId: u.id, playedMs: this.#ms(u.sent), rewoundMs: this.#ms(rewound) };
  }

  /** Ends a pause: sending continues from the rewound position on the scheduler's grid. */
  resume(): boolean {
    if (!this.#paused) return false;
    this.#paused = false;
    this.#nextDue = null;
    if (this.#sink && this.#queue.length > 0) this.scheduler.activate(this);
    return this.#queue.length > 0;
  }

  /** Sends what is due. Returns false when the channel has nothing more to do until new audio arrives. */
  pump(now: number, slot: number, s: PlayoutScheduler): boolean {
    const sink = this.#sink;
    if (!sink || this.#queue.length === 0 || this.#paused) return false;
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
      const due = this.#nextDue as number;
      this.#lastDue = due;
      this.echo?.played(frameDb(this.#frame), due);
      s.hooks.onFrameSent(now - due);
      u.sent += n;
      this.#release(u);
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
        u.chunk++;
        u.offset = 0;
      }
    }
    if (filled < want) this.#frame.fill(0, filled);
    return filled;
  }

  /** Releases chunks that ended more than KEEP_MS before the sent position (no rewind reaches them). */
  #release(u: Utterance): void {
    const keep = (this.sampleRate * KEEP_MS) / 1000;
    while (u.relChunk < u.chunk) {
      const len = (u.chunks[u.relChunk] as Int16Array).length;
      if (u.relStart + len > u.sent - keep) return;
      u.chunks[u.relChunk] = EMPTY;
      u.relStart += len;
      u.relChunk++;
    }
  }

  /** Moves the read position of `u` back to sample `pos` (not before its first kept chunk). */
  #seek(u: Utterance, pos: number): void {
    let start = u.relStart;
    let c = u.relChunk;
    while (c < u.chunks.length && start + (u.chunks[c] as Int16Array).length <= pos) {
      start += (u.chunks[c] as Int16Array).length;
      c++;
    }
    u.chunk = c;
    u.offset = pos - start;
    u.sent = pos;
  }

  #finish(interrupted: boolean): void {
    const u = this.#queue.shift();
    if (u) this.onDone({ utteranceId: u.id, playedMs: this.#ms(u.sent), totalMs: this.#ms(u.queued), interrupted });
  }

  #utterance(id: string): Utterance {
    const last = this.#queue[this.#queue.length - 1];
    if (last && last.id === id && !last.ended) return last;
    const u: Utterance = { id, chunks: [], chunk: 0, offset: 0, queued: 0, sent: 0, ended: false, relChunk: 0, relStart: 0 };
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
