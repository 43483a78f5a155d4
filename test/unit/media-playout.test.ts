// The playout scheduler with a fake monotonic clock: 20 ms frames at 50/s, catch-up after a late tick
// bounded by maxBurst, re-anchoring when far behind, pausing on a full socket, playedMs, and stop.
import { describe, expect, it } from 'vitest';
import { PlayoutScheduler, type PlayoutClock } from '../../src/domain/audio/playout.js';
import { PlayoutChannel, type PlayoutDone, type PlayoutSink } from '../../src/domain/audio/playout-channel.js';

class FakeClock implements PlayoutClock {
  t = 1000;
  pending: { at: number; fn: () => void } | null = null;
  now(): number {
    return this.t;
  }
  schedule(fn: () => void, delayMs: number): () => void {
    const entry = { at: this.t + delayMs, fn };
    this.pending = entry;
    return () => {
      if (this.pending === entry) this.pending = null;
    };
  }
  /** Advances time, firing the timer when due; `lateBy` delays the firing of the next timer. */
  advance(ms: number, lateBy = 0): void {
    const end = this.t + ms;
    while (this.pending && this.pending.at + lateBy <= end) {
      const p = this.pending;
      this.pending = null;
      this.t = p.at + lateBy;
      lateBy = 0;
      p.fn();
    }
    this.t = end;
  }
}

class Sink implements PlayoutSink {
  frames: { at: number; pcm: Int16Array; write: number }[] = [];
  stops = 0;
  buffered = 0;
  /** Transport writes: a frame sent outside cork/uncork is a write of its own. */
  writes = 0;
  #corked = 0;
  #pending = false;
  cork(): void {
    this.#corked++;
  }
  uncork(): void {
    if (--this.#corked === 0 && this.#pending) {
      this.#pending = false;
      this.writes++;
    }
  }
  constructor(private readonly clock: FakeClock) {}
  bufferedAmount(): number {
    return this.buffered;
  }
  sendFrame(pcm: Int16Array): void {
    if (this.#corked > 0) this.#pending = true;
    else this.writes++;
    this.frames.push({ at: this.clock.now(), pcm: pcm.slice(), write: this.writes + (this.#corked > 0 ? 1 : 0) });
  }
  sendStop(): void {
    this.stops++;
  }
}

function setup(rate = 16000, leadMs = 2, tickMs = 20, maxBurst = 3) {
  const clock = new FakeClock();
  const stats = { late: [] as number[], slow: 0, resync: 0 };
  const scheduler = new PlayoutScheduler(clock, { frameMs: 20, tickMs, maxBurst, maxLagMs: 100, maxBufferedBytes: 1000, leadMs }, {
    onFrameSent: (ms) => stats.late.push(ms),
    onSlowSocket: () => stats.slow++,
    onResync: () => stats.resync++,
  });
  const done: PlayoutDone[] = [];
  const ch = new PlayoutChannel(scheduler, rate, (d) => done.push(d));
  const sink = new Sink(clock);
  ch.attach(sink);
  return { clock, scheduler, ch, sink, done, stats };
}

const ramp = (n: number) => Int16Array.from({ length: n }, (_, i) => i % 1000);

describe('playout', () => {
  it('sends 20 ms frames at 50 per second on time and reports playoutDone', () => {
    const { clock, ch, sink, done, stats } = setup();
    ch.speak('u1', ramp(16000)); // one second
    ch.endUtterance('u1');
    expect(ch.speaking).toBe(true);
    // An idle channel starts at once: the first frame does not wait for the next wake-up.
    expect(sink.frames.map((f) => f.at)).toEqual([1000]);
    clock.advance(1000);
    expect(sink.frames.length).toBe(50);
    expect(sink.frames.every((f) => f.pcm.length === 320)).toBe(true);
    for (let i = 1; i < sink.frames.length; i++) expect(sink.frames[i]!.at - sink.frames[i - 1]!.at).toBe(20);
    expect(Math.max(...stats.late)).toBe(0);
    clock.advance(40);
    expect(done).toEqual([{ utteranceId: 'u1', playedMs: 1000, totalMs: 1000, interrupted: false }]);
    expect(ch.speaking).toBe(false);
    // the samples went out in order, unchanged
    const joined = sink.frames.flatMap((f) => [...f.pcm]);
    expect(joined).toEqual([...ramp(16000)]);
  });

  it('waking every 40 ms sends two 20 ms frames per call in one write, still 50/s, none late, samples in order', () => {
    const { clock, ch, sink, done, stats } = setup(16000, 40, 40, 4);
    ch.speak('u1', ramp(16000 * 2)); // two seconds
    ch.endUtterance('u1');
    clock.advance(2100);
    expect(sink.frames.length).toBe(100);
    expect(sink.frames.every((f) => f.pcm.length === 320)).toBe(true);
    // One write per wake-up carrying two frames, wake-ups 40 ms apart.
    expect(sink.writes).toBe(50);
    const byWrite = new Map<number, number[]>();
    for (const f of sink.frames) byWrite.set(f.write, [...(byWrite.get(f.write) ?? []), f.at]);
    expect([...byWrite.values()].every((ats) => ats.length === 2 && ats[0] === ats[1])).toBe(true);
    const starts = [...byWrite.values()].map((ats) => ats[0] as number);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(40);
    expect(Math.max(...stats.late)).toBeLessThanOrEqual(0);
    expect(sink.frames.flatMap((f) => [...f.pcm])).toEqual([...ramp(32000)]);
    expect(done).toEqual([{ utteranceId: 'u1', playedMs: 2000, totalMs: 2000, interrupted: false }]);
  });

  it('refuses a wake-up period that is not whole frames or that the lead does not cover', () => {
    const hooks = { onFrameSent: () => undefined, onSlowSocket: () => undefined, onResync: () => undefined };
    const cfg = { frameMs: 20, maxBurst: 3, maxLagMs: 100, maxBufferedBytes: 1000 };
    expect(() => new PlayoutScheduler(new FakeClock(), { ...cfg, tickMs: 30, leadMs: 40 }, hooks)).toThrow(RangeError);
    expect(() => new PlayoutScheduler(new FakeClock(), { ...cfg, tickMs: 60, leadMs: 20 }, hooks)).toThrow(RangeError);
  });

  it('catches up after a late tick without bursting beyond maxBurst, then recovers the 50/s rate', () => {
    const { clock, ch, sink } = setup();
    ch.speak('u1', ramp(16000 * 3));
    clock.advance(200);
    const before = sink.frames.length;
    clock.advance(100, 70); // the next timer fires 70 ms late: ~4 frames are due at once
    const times = sink.frames.slice(before).map((f) => f.at);
    const perInstant = new Map<number, number>();
    for (const t of times) perInstant.set(t, (perInstant.get(t) ?? 0) + 1);
    expect(Math.max(...perInstant.values())).toBeLessThanOrEqual(3);
    clock.advance(2000);
    // Over the whole run: no frames lost to the late tick — total equals elapsed time / 20 ms (±1).
    expect(Math.abs(sink.frames.length - 2300 / 20)).toBeLessThanOrEqual(1);
  });

  it('with a one-frame lead, a stall shorter than the lead makes no frame late, still at 50/s', () => {
    const { clock, ch, sink, stats } = setup(16000, 20);
    ch.speak('u1', ramp(16000 * 3));
    clock.advance(200);
    clock.advance(100, 15);
    clock.advance(700);
    expect(Math.max(...stats.late)).toBeLessThanOrEqual(0);
    expect(Math.abs(sink.frames.length - 1000 / 20)).toBeLessThanOrEqual(2);
  });

  it('re-anchors when far behind instead of bursting', () => {
    const { clock, ch, sink, stats } = setup();
    ch.speak('u1', ramp(16000 * 3));
    clock.advance(100);
    const before = sink.frames.length;
    clock.advance(600, 500); // the timer fires half a second late
    const burst = sink.frames.slice(before).filter((f) => f.at === sink.frames[before]!.at).length;
    expect(burst).toBeLessThanOrEqual(3);
    expect(stats.resync).toBe(1);
  });

  it('pauses a slow socket (counted once per episode) and resumes when it drains', () => {
    const { clock, ch, sink, stats } = setup();
    ch.speak('u1', ramp(16000));
    clock.advance(100);
    const sent = sink.frames.length;
    sink.buffered = 5000;
    clock.advance(200);
    expect(sink.frames.length).toBe(sent);
    expect(stats.slow).toBe(1);
    sink.buffered = 0;
    clock.advance(200);
    expect(sink.frames.length).toBeGreaterThan(sent);
    expect(ch.current.playedMs).toBe(sink.frames.length * 20);
  });

  it('waits on underrun, pads the final frame, and knows playedMs at every moment', () => {
    const { clock, ch, sink, done } = setup();
    ch.speak('u1', ramp(500)); // 1.56 frames
    clock.advance(100);
    expect(sink.frames.length).toBe(1);
    expect(ch.current).toEqual({ utteranceId: 'u1', playedMs: 20 });
    ch.endUtterance('u1');
    clock.advance(40);
    expect(sink.frames.length).toBe(2);
    expect([...sink.frames[1]!.pcm.subarray(180)].every((v) => v === 0)).toBe(true);
    expect(done[0]).toMatchObject({ utteranceId: 'u1', playedMs: 31, interrupted: false });
  });

  it('stop sends stopAudio, drops the queue and reports each dropped utterance', () => {
    const { clock, ch, sink, done } = setup();
    ch.speak('u1', ramp(16000));
    ch.endUtterance('u1');
    ch.speak('u2', ramp(16000));
    clock.advance(200);
    const r = ch.stop('hangup');
    expect(sink.stops).toBe(1);
    expect(r).toEqual({ utteranceId: 'u1', playedMs: sink.frames.length * 20 });
    expect(done.map((d) => [d.utteranceId, d.interrupted])).toEqual([['u1', true], ['u2', true]]);
    const n = sink.frames.length;
    clock.advance(200);
    expect(sink.frames.length).toBe(n);
    expect(ch.speaking).toBe(false);
  });

  it('keeps one timer when a listener queues the next utterance from inside a tick', () => {
    const { clock, scheduler } = setup();
    let scheduled = 0;
    const schedule = clock.schedule.bind(clock);
    clock.schedule = (fn, ms) => {
      scheduled++;
      return schedule(fn, ms);
    };
    const sink = new Sink(clock);
    let k = 0;
    const ch: PlayoutChannel = new PlayoutChannel(scheduler, 16000, () => {
      ch.speak(`u${++k}`, ramp(640));
      ch.endUtterance(`u${k}`);
    });
    ch.attach(sink);
    ch.speak('u0', ramp(640));
    ch.endUtterance('u0');
    clock.advance(1000);
    // The first frame leaves at once (t = 0), then one every 20 ms: 0, 20, ..., 1000 ms.
    expect(sink.frames.length).toBe(51);
    expect(sink.frames.map((f) => f.at - 1000)).toEqual(Array.from({ length: 51 }, (_, i) => i * 20));
    expect(scheduled).toBeLessThanOrEqual(scheduler.ticks + 1);
  });

  it('one scheduler serves many channels from one timer', () => {
    const { clock, scheduler } = setup();
    const sinks: Sink[] = [];
    for (let i = 0; i < 20; i++) {
      const c = new PlayoutChannel(scheduler, 16000, () => undefined);
      const s = new Sink(clock);
      sinks.push(s);
      c.attach(s);
      c.speak(`u${i}`, ramp(3200));
    }
    clock.advance(500);
    expect(sinks.every((s) => s.frames.length === 10)).toBe(true);
    expect(scheduler.ticks).toBeLessThanOrEqual(26);
  });
});
