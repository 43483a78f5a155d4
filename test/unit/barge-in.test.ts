// Barge-in parts without a socket: the frame level (computed in place), the echo gate that learns a
// line's echo return loss, the two-frame detector with its resume rule, and the playout channel's
// pause (stopAudio, rewind to the frame being heard) and resume (the rest of the reply, nothing lost).
import { describe, expect, it } from 'vitest';
import { BargeInDetector } from '../../src/domain/audio/barge-in.js';
import { EchoGate, frameDb } from '../../src/domain/audio/echo-gate.js';
import { PlayoutScheduler, type PlayoutClock } from '../../src/domain/audio/playout.js';
import { PlayoutChannel, type PlayoutDone, type PlayoutSink } from '../../src/domain/audio/playout-channel.js';

const tone = (db: number, n = 320) => {
  // A square wave has RMS equal to its amplitude.
  const a = Math.round(32768 * 10 ** (db / 20));
  return Int16Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : -a));
};

describe('frame level', () => {
  it('is the RMS in dBFS; digital silence is -120', () => {
    expect(frameDb(tone(-20))).toBeCloseTo(-20, 1);
    expect(frameDb(tone(-45))).toBeCloseTo(-45, 1);
    expect(frameDb(new Int16Array(320))).toBe(-120);
  });
});

describe('echo gate', () => {
  it('with nothing played, the floor decides', () => {
    const g = new EchoGate();
    expect(g.judge(-44, 0)).toBe(true);
    expect(g.judge(-46, 20)).toBe(false);
  });

  it('assumes a conservative echo return loss until it has heard the line, then learns it', () => {
    const g = new EchoGate({ minObservations: 25 });
    let t = 0;
    // Before learning: 10 dB assumed, so a caller 8 dB under the agent is taken for echo.
    g.played(-12, t);
    expect(g.judge(-20, t)).toBe(false);
    // The line returns the agent 25 dB down, delayed by 60 ms.
    for (let i = 0; i < 100; i++) {
      t += 20;
      g.played(-12, t);
      expect(g.judge(i < 3 ? -120 : -37, t), `frame ${i}`).toBe(false);
    }
    expect(g.erlDb).toBeCloseTo(25, 0);
    // Now a caller at -25 dBFS (well above the -37 dBFS echo) counts, the echo does not.
    expect(g.threshold(t)).toBeCloseTo(-31, 0);
    expect(g.judge(-25, t)).toBe(true);
    expect(g.judge(-37, t)).toBe(false);
  });

  it('forgets what was played after the tail', () => {
    const g = new EchoGate({ tailMs: 500 });
    g.played(-10, 0);
    expect(g.reference(400)).toBeCloseTo(-10);
    expect(g.reference(600)).toBe(-120);
    expect(g.judge(-40, 600)).toBe(true);
  });
});

describe('barge-in detector', () => {
  it('pauses on the second consecutive voiced frame while the agent plays, never when it does not', () => {
    const d = new BargeInDetector();
    expect(d.push(true, 0, false)).toBeNull();
    expect(d.push(true, 20, false)).toBeNull();
    expect(d.push(true, 40, true)).toBeNull();
    expect(d.push(false, 60, true)).toBeNull();
    expect(d.push(true, 80, true)).toBeNull();
    expect(d.push(true, 100, true)).toBe('pause');
    expect(d.onset).toEqual({ firstVoicedAt: 80, detectedAt: 100, frames: 2 });
    expect(d.paused).toBe(true);
  });

  it('resumes only after 600 ms and 300 ms of caller quiet', () => {
    const d = new BargeInDetector();
    d.push(true, 0, true);
    expect(d.push(true, 20, true)).toBe('pause');
    let t = 20;
    // The caller goes on for 800 ms: no resume while he talks.
    for (; t < 820; t += 20) expect(d.push(true, t, false)).toBeNull();
    const quietFrom = t;
    let resumedAt = -1;
    for (; t < 2000 && resumedAt < 0; t += 20) if (d.push(false, t, false) === 'resume') resumedAt = t;
    expect(resumedAt - (quietFrom - 20)).toBeGreaterThanOrEqual(300);
    expect(resumedAt - (quietFrom - 20)).toBeLessThan(340);
    expect(d.paused).toBe(false);
  });

  it('a short noise resumes 600 ms after the pause', () => {
    const d = new BargeInDetector();
    d.push(true, 0, true);
    d.push(true, 20, true);
    let t = 40;
    while (d.push(false, t, false) !== 'resume') t += 20;
    expect(t).toBe(620);
  });
});

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
  advance(ms: number): void {
    const end = this.t + ms;
    while (this.pending && this.pending.at <= end) {
      const p = this.pending;
      this.pending = null;
      this.t = p.at;
      p.fn();
    }
    this.t = end;
  }
}

function channel(leadMs: number, tickMs: number) {
  const clock = new FakeClock();
  const scheduler = new PlayoutScheduler(clock, { frameMs: 20, tickMs, maxBurst: 4, maxLagMs: 100, maxBufferedBytes: 1 << 20, leadMs }, { onFrameSent: () => undefined, onSlowSocket: () => undefined, onResync: () => undefined });
  const done: PlayoutDone[] = [];
  const gate = new EchoGate();
  const ch = new PlayoutChannel(scheduler, 16000, (d) => done.push(d), gate);
  const sent: number[] = [];
  let stops = 0;
  const sink: PlayoutSink = { bufferedAmount: () => 0, sendFrame: (pcm) => sent.push(pcm[0] as number), sendStop: () => void stops++ };
  ch.attach(sink);
  return { clock, ch, done, sent, stops: () => stops, gate };
}

/** Frame i holds the value i in every sample: what was sent is readable frame by frame. */
const numbered = (frames: number) => Int16Array.from({ length: frames * 320 }, (_, i) => Math.floor(i / 320) + 1);

describe('playout pause / resume', () => {
  for (const [leadMs, tickMs] of [
    [20, 20],
    [40, 40],
  ] as const) {
    it(`pause sends stopAudio and rewinds the frames sent ahead; resume plays the rest, all of it (lead ${leadMs} ms)`, () => {
      const { clock, ch, done, sent, stops, gate } = channel(leadMs, tickMs);
      ch.speak('u1', numbered(50)); // one second
      ch.endUtterance('u1');
      clock.advance(300);
      const sentBefore = sent.length;
      const now = clock.now();
      // The echo gate sees every frame played (frame i is at 20·log10(i/32768) dBFS).
      expect(gate.reference(now)).toBeCloseTo(20 * Math.log10(sentBefore / 32768), 1);
      const at = ch.pause(now);
      expect(stops()).toBe(1);
      expect(ch.paused).toBe(true);
      expect(ch.speaking).toBe(true);
      expect(ch.playing).toBe(false);
      // Frames whose due time had not come were discarded by stopAudio: the position goes back to them.
      const heard = at!.playedMs / 20;
      expect(heard).toBeLessThan(sentBefore);
      expect(sentBefore - heard).toBeLessThanOrEqual(leadMs / 20 + 1);
      expect(at!.rewoundMs).toBe((sentBefore - heard) * 20);
      // Nothing goes out while paused, whatever arrives.
      clock.advance(600);
      ch.speak('u2', numbered(5));
      ch.endUtterance('u2');
      expect(sent.length).toBe(sentBefore);
      expect(ch.resume()).toBe(true);
      clock.advance(2000);
      // The first frame after the resume is the first one the caller did not hear.
      expect(sent[sentBefore]).toBe(heard + 1);
      const u1 = [...sent.slice(0, heard), ...sent.slice(sentBefore, sentBefore + 50 - heard)];
      expect(u1).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(done[0]).toEqual({ utteranceId: 'u1', playedMs: 1000, totalMs: 1000, interrupted: false });
      expect(done[1]).toMatchObject({ utteranceId: 'u2', interrupted: false });
      expect(stops()).toBe(1);
    });
  }

  it('drop while paused reports the heard position and sends no second stopAudio', () => {
    const { clock, ch, done, stops } = channel(40, 40);
    ch.speak('u1', numbered(50));
    clock.advance(200);
    const at = ch.pause(clock.now());
    const dropped = ch.drop();
    expect(stops()).toBe(1);
    expect(dropped).toEqual([{ utteranceId: 'u1', playedMs: at!.playedMs, totalMs: 1000, interrupted: true }]);
    expect(done).toEqual([]);
    expect(ch.paused).toBe(false);
    expect(ch.speaking).toBe(false);
  });

  it('a long utterance in many chunks still rewinds after older chunks were released', () => {
    const { clock, ch, sent } = channel(40, 40);
    const all = numbered(100);
    for (let i = 0; i < 100; i += 2) ch.speak('u1', all.subarray(i * 320, (i + 2) * 320));
    ch.endUtterance('u1');
    clock.advance(1500);
    const before = sent.length;
    const at = ch.pause(clock.now());
    ch.resume();
    clock.advance(3000);
    expect(sent[before]).toBe(at!.playedMs / 20 + 1);
    expect(sent.length).toBe(100 + (before - at!.playedMs / 20));
  });
});
