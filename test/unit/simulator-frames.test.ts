import { describe, expect, it } from 'vitest';
import { base64DecodedLength, dueTick, frameBytes, framesFor, msToTicks, sampleRateOf } from '../../src/simulator/frame-math.js';
import { encodeFrames, resampleLinear } from '../../src/simulator/caller-audio.js';
import { audioDataHead, audioDataTail, transcriptionData } from '../../src/simulator/media-messages.js';
import { parseScenarios } from '../../src/simulator/scenarios.js';
import { FrameClock, type ClockTick } from '../../src/simulator/frame-clock.js';

describe('frame pacing math', () => {
  it('frame sizes per format', () => {
    expect(frameBytes(sampleRateOf('pcm16KMono'))).toBe(640);
    expect(frameBytes(sampleRateOf('pcm24KMono'))).toBe(960);
    expect(framesFor(1000)).toBe(50);
    expect(framesFor(1001)).toBe(51);
  });

  it('dueTick is drift-free: a late timer catches up to exactly elapsed/20 + 1 ticks', () => {
    expect(dueTick(1000, 999)).toBe(0);
    expect(dueTick(1000, 1000)).toBe(1);
    expect(dueTick(1000, 1019.9)).toBe(1);
    expect(dueTick(1000, 1020)).toBe(2);
    expect(dueTick(1000, 1000 + 60_000)).toBe(3001);
    // after any irregular sequence of wake-ups the total ticks sent depend only on elapsed time
    let sent = 0;
    for (const t of [3, 4, 41, 42, 97, 250, 251]) sent = Math.max(sent, dueTick(0, t));
    expect(sent).toBe(Math.floor(251 / 20) + 1);
  });

  it('base64 length without decoding and 100 ns ticks', () => {
    for (const n of [0, 1, 2, 3, 640, 959, 960]) expect(base64DecodedLength(Buffer.alloc(n).toString('base64'))).toBe(n);
    expect(msToTicks(20)).toBe(200_000);
  });

  it('frames are exactly one 20 ms frame each, resampling 16 → 24 kHz keeps the duration', () => {
    const oneSecond = new Int16Array(16000).map((_, i) => Math.round(1000 * Math.sin(i / 10)));
    const f16 = encodeFrames(oneSecond, 16000);
    expect(f16).toHaveLength(50);
    for (const f of f16) expect(Buffer.from(f, 'base64').length).toBe(640);
    const up = resampleLinear(oneSecond, 16000, 24000);
    expect(up.length).toBe(24000);
    const f24 = encodeFrames(up, 24000);
    expect(f24).toHaveLength(50);
    for (const f of f24) expect(Buffer.from(f, 'base64').length).toBe(960);
  });

  it('pre-encoded AudioData pieces concatenate into the documented JSON', () => {
    const b64 = Buffer.alloc(640).toString('base64');
    const msg = audioDataHead(b64) + '2026-01-01T00:00:00.000Z' + audioDataTail('4:+14255550100', true);
    expect(JSON.parse(msg)).toEqual({ kind: 'AudioData', audioData: { data: b64, timestamp: '2026-01-01T00:00:00.000Z', participantRawID: '4:+14255550100', silent: true } });
    expect(JSON.parse(audioDataHead(b64) + 'T' + audioDataTail(undefined, false)).audioData).toEqual({ data: b64, timestamp: 'T', silent: false });
  });

  it('transcription results by default in the documented shape: offsets in ticks, no durations', () => {
    const m = JSON.parse(transcriptionData(['hello', 'there.'], 1000, 800, '4:+1', 'Final')).transcriptionData;
    expect(m.offset).toBe(10_000_000);
    expect('duration' in m).toBe(false);
    expect(m.words).toEqual([
      { text: 'hello', offset: 10_000_000 },
      { text: 'there', offset: 14_000_000 },
    ]);
  });

  it('transcription words lie inside the result, in ticks (with durations, as the SDK model allows)', () => {
    const m = JSON.parse(transcriptionData(['hello', 'there.'], 1000, 800, '4:+1', 'Final', true)).transcriptionData;
    expect(m.offset).toBe(10_000_000);
    expect(m.duration).toBe(8_000_000);
    expect(m.words).toEqual([
      { text: 'hello', offset: 10_000_000, duration: 4_000_000 },
      { text: 'there', offset: 14_000_000, duration: 4_000_000 },
    ]);
  });

  it('scenario specs mix with commas and compose with plus', () => {
    expect(parseScenarios('qa,barge-in')).toEqual([['qa'], ['barge-in']]);
    expect(parseScenarios(['qa+dtmf', 'silence'])).toEqual([['qa', 'dtmf'], ['silence']]);
    expect(parseScenarios('')).toEqual([['qa']]);
    expect(() => parseScenarios('qa,nope')).toThrow(/unknown scenario 'nope'/);
  });
});

describe('FrameClock', () => {
  type Seen = { who: string; tick: number; slot: number; iso: string };
  const sub = (who: string, seen: Seen[]) => ({ onTick: (t: ClockTick) => seen.push({ who, tick: t.tick, slot: t.slot, iso: t.iso }) });
  async function drive(clock: FrameClock, seen: Seen[], n: number): Promise<void> {
    for (let i = 0; i < 500 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    clock.stop();
  }

  it('gives every subscriber one frame per 20 ms tick, consecutive ticks, timestamps 20 ms apart', async () => {
    const clock = new FrameClock();
    const seen: Seen[] = [];
    clock.add(sub('a', seen));
    clock.add(sub('b', seen));
    await drive(clock, seen, 12);
    for (const who of ['a', 'b']) {
      const mine = seen.filter((s) => s.who === who);
      expect(mine.length).toBeGreaterThan(2);
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i]!.tick).toBe(mine[i - 1]!.tick + 1);
        expect(Date.parse(mine[i]!.iso) - Date.parse(mine[i - 1]!.iso)).toBe(20);
      }
    }
  });

  it('spreads subscribers over the phases of the 20 ms period (slots 5 ms apart), least loaded first', async () => {
    const clock = new FrameClock(4);
    const seen: Seen[] = [];
    for (const who of ['a', 'b', 'c', 'd', 'e']) clock.add(sub(who, seen));
    await drive(clock, seen, 30);
    const phase = (who: string) => new Set(seen.filter((s) => s.who === who).map((s) => s.slot % 4));
    const phases = ['a', 'b', 'c', 'd'].map((w) => [...phase(w)]);
    for (const p of phases) expect(p).toHaveLength(1);
    expect(new Set(phases.flat()).size).toBe(4);
    expect([...phase('e')]).toEqual(phases[0]);
    const a = seen.find((s) => s.who === 'a')!;
    const b = seen.find((s) => s.who === 'b' && s.tick === a.tick)!;
    expect(Date.parse(b.iso) - Date.parse(a.iso)).toBe(5);
  });

  it('with one phase drives every subscriber in the same slot with one shared timestamp', async () => {
    const clock = new FrameClock(1);
    const seen: Seen[] = [];
    clock.add(sub('a', seen));
    clock.add(sub('b', seen));
    await drive(clock, seen, 8);
    for (let i = 0; i + 1 < seen.length; i += 2) {
      expect(seen[i]!.who).toBe('a');
      expect(seen[i + 1]).toMatchObject({ who: 'b', tick: seen[i]!.tick, iso: seen[i]!.iso });
    }
  });
});
