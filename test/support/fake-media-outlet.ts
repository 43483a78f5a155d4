// A MediaOutlet for turn-pipeline tests: records what was spoken and stopped, and emits playoutDone
// on the call's events when told to (complete, or cut short at a share of the audio).
import type { MediaOutlet } from '../../src/domain/call-events.js';
import type { LiveCall } from '../../src/domain/live-call.js';

export interface SpokenUtterance {
  readonly utteranceId: string;
  readonly chunks: Int16Array[];
  ended: boolean;
  done: boolean;
}

export class FakeMediaOutlet implements MediaOutlet {
  readonly utterances: SpokenUtterance[] = [];
  readonly stops: string[] = [];
  /** When true, playoutDone (complete) fires right after endUtterance. */
  autoComplete: boolean;
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    private readonly call: LiveCall,
    readonly sampleRate: 16000 | 24000 = 16000,
    opts: { autoComplete?: boolean } = {},
  ) {
    this.autoComplete = opts.autoComplete ?? true;
  }

  get speaking(): boolean {
    return this.utterances.some((u) => !u.done);
  }

  speak(utteranceId: string, pcm: Int16Array): void {
    let u = this.utterances.find((x) => x.utteranceId === utteranceId);
    if (!u) {
      u = { utteranceId, chunks: [], ended: false, done: false };
      this.utterances.push(u);
    }
    u.chunks.push(pcm);
  }

  endUtterance(utteranceId: string): void {
    const u = this.utterances.find((x) => x.utteranceId === utteranceId);
    if (!u) return;
    u.ended = true;
    if (this.autoComplete) queueMicrotask(() => this.complete(utteranceId));
    this.#notify();
  }

  stop(cause: 'vad' | 'transcript' | 'dtmf' | 'hangup'): { utteranceId: string | null; playedMs: number } {
    this.stops.push(cause);
    const u = this.utterances.find((x) => !x.done);
    if (!u) return { utteranceId: null, playedMs: 0 };
    u.done = true;
    this.call.events.emit('playoutDone', { utteranceId: u.utteranceId, playedMs: 0, totalMs: this.totalMs(u), interrupted: true });
    return { utteranceId: u.utteranceId, playedMs: 0 };
  }

  totalMs(u: SpokenUtterance): number {
    return (u.chunks.reduce((s, c) => s + c.length, 0) * 1000) / this.sampleRate;
  }

  /** Reports the utterance as fully played. */
  complete(utteranceId: string): void {
    const u = this.utterances.find((x) => x.utteranceId === utteranceId);
    if (!u || u.done) return;
    u.done = true;
    const total = this.totalMs(u);
    this.call.events.emit('playoutDone', { utteranceId, playedMs: total, totalMs: total, interrupted: false });
  }

  /** Barge-in as the media path does it: interrupt the turn, then bargeIn + playoutDone(interrupted). */
  bargeIn(share: number): void {
    const u = this.utterances.find((x) => !x.done);
    if (!u) throw new Error('nothing playing');
    u.done = true;
    const total = this.totalMs(u);
    const playedMs = total * share;
    this.call.interruptTurn('barge-in');
    this.call.events.emit('bargeIn', { at: Date.now(), utteranceId: u.utteranceId, playedMs, cause: 'vad' });
    this.call.events.emit('playoutDone', { utteranceId: u.utteranceId, playedMs, totalMs: total, interrupted: true });
  }

  /** Resolves once `n` utterances have ended (endUtterance called). */
  untilEnded(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ n, resolve });
      this.#notify();
    });
  }

  /** All PCM of an utterance, concatenated. */
  pcm(i: number): Int16Array {
    const u = this.utterances[i];
    if (!u) throw new Error(`no utterance ${i}`);
    const out = new Int16Array(u.chunks.reduce((s, c) => s + c.length, 0));
    let o = 0;
    for (const c of u.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  #notify(): void {
    const ended = this.utterances.filter((u) => u.ended).length;
    this.#waiters = this.#waiters.filter((w) => {
      if (ended >= w.n) w.resolve();
      return ended < w.n;
    });
  }
}
