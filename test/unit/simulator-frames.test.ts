import { describe, expect, it } from 'vitest';
import { base64DecodedLength, dueTick, frameBytes, framesFor, msToTicks, sampleRateOf } from '../../src/simulator/frame-math.js';
import { encodeFrames, resampleLinear } from '../../src/simulator/caller-audio.js';
import { audioDataHead, audioDataTail, transcriptionData } from '../../src/simulator/media-messages.js';
import { parseScenarios } from '../../src/simulator/scenarios.js';

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

  it('transcription words lie inside the result, in ticks', () => {
    const m = JSON.parse(transcriptionData(['hello', 'there.'], 1000, 800, '4:+1', 'Final')).transcriptionData;
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
  it('drives every subscriber once per tick with one shared timestamp, in order', async () => {
    const { FrameClock } = await import('../../src/simulator/frame-clock.js');
    const clock = new FrameClock();
    const seen: { who: string; tick: number; iso: string }[] = [];
    const a = { onTick: (tick: number, iso: string) => seen.push({ who: 'a', tick, iso }) };
    const b = { onTick: (tick: number, iso: string) => seen.push({ who: 'b', tick, iso }) };
    clock.add(a);
    clock.add(b);
    for (let i = 0; i < 500 && seen.length < 8; i++) await new Promise((r) => setTimeout(r, 10));
    clock.stop();
    const ticksA = seen.filter((s) => s.who === 'a').map((s) => s.tick);
    const ticksB = seen.filter((s) => s.who === 'b').map((s) => s.tick);
    expect(ticksA.length).toBeGreaterThan(1);
    expect(ticksA).toEqual(ticksB);
    for (let i = 1; i < ticksA.length; i++) expect(ticksA[i]).toBe((ticksA[i - 1] as number) + 1);
    for (let i = 0; i < seen.length; i += 2) expect(seen[i]?.iso).toBe(seen[i + 1]?.iso);
    const t0 = Date.parse(seen[0]!.iso);
    const t1 = Date.parse(seen[2]!.iso);
    expect(t1 - t0).toBe(20);
  });
});
