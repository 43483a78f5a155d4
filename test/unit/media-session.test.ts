// The per-call media session with the real WebRTC VAD on real speech (Flite, test/fixtures): speech
// events, barge-in within 3 inbound frames of onset, DTMF and intermediate-transcript barge-in,
// silent frames skipping the VAD, and the 24 kHz path through the resampler.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LiveCall } from '../../src/domain/live-call.js';
import { MediaSession } from '../../src/domain/audio/media-session.js';
import { PlayoutScheduler, DEFAULT_PLAYOUT, type PlayoutClock } from '../../src/domain/audio/playout.js';
import type { PlayoutSink } from '../../src/domain/audio/playout-channel.js';
import type { VoiceDetectorFactory } from '../../src/domain/audio/vad.js';
import { createFvadFactory } from '../../src/adapters/audio/fvad.js';
import { silentLogger } from '../../src/logger.js';

const raw = readFileSync(new URL('../fixtures/speech-16k.pcm', import.meta.url));
const SPEECH = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
const frames16k = Array.from({ length: Math.floor(SPEECH.length / 320) }, (_, i) => SPEECH.subarray(i * 320, (i + 1) * 320));

/** First frame whose energy is above -40 dBFS: where the phrase audibly starts. */
function energyOnset(frames: Int16Array[]): number {
  return frames.findIndex((f) => {
    let e = 0;
    for (const v of f) e += v * v;
    return 10 * Math.log10(e / f.length / 32768 ** 2 + 1e-12) > -40;
  });
}

const manualClock: PlayoutClock = { now: () => 0, schedule: () => () => undefined };

function setup(detectors: VoiceDetectorFactory, sampleRate = 16000) {
  const call = new LiveCall({ callId: 'c1', from: 'a', to: 'b', correlationId: null, startedAt: 0, log: silentLogger() });
  const scheduler = new PlayoutScheduler(manualClock, DEFAULT_PLAYOUT, { onFrameSent: () => undefined, onSlowSocket: () => undefined, onResync: () => undefined });
  let t = 0;
  const session = new MediaSession(
    { call, scheduler, detectors, monotonic: () => (t += 20), wall: () => t },
    { ringSeconds: 2, vadOnsetFrames: 2, vadHangoverMs: 400, sampleRate, channels: 'mixed', maxStreams: 1 },
  );
  const log: string[] = [];
  const sink: PlayoutSink = { bufferedAmount: () => 0, sendFrame: () => undefined, sendStop: () => log.push('stopAudio') };
  for (const name of ['speechStart', 'speechEnd', 'bargeIn', 'playoutDone', 'dtmf', 'transcript', 'mediaConnected', 'mediaClosed'] as const) {
    call.events.on(name, (e) => log.push(`${name}:${JSON.stringify(e)}`));
  }
  session.attach(sink);
  return { call, session, log, scheduler };
}

describe('media session', () => {
  let detectors: VoiceDetectorFactory;
  beforeAll(async () => {
    detectors = await createFvadFactory(3);
  });

  it('barges in within 3 inbound frames of real speech onset while the agent speaks', () => {
    const { call, session, log } = setup(detectors);
    const abort = call.turnAbort.signal;
    expect(call.media).toBe(session.playout);
    session.playout.speak('agent-1', new Int16Array(16000 * 5));
    const onset = energyOnset(frames16k);
    expect(onset).toBeGreaterThan(5);
    let stoppedAt = -1;
    frames16k.forEach((f, i) => {
      session.audio(null, f, false);
      if (stoppedAt < 0 && log.includes('stopAudio')) stoppedAt = i;
    });
    expect(stoppedAt).toBeGreaterThanOrEqual(onset);
    expect(stoppedAt - onset).toBeLessThan(3);
    expect(abort.aborted).toBe(true);
    expect(call.turnAbort.signal.aborted).toBe(false);
    const kinds = log.map((l) => l.split(':')[0]);
    const i = kinds.indexOf('bargeIn');
    expect(kinds.slice(i - 2, i + 2)).toEqual(['speechStart', 'stopAudio', 'bargeIn', 'playoutDone']);
    expect(log[i]).toContain('"utteranceId":"agent-1"');
    expect(log[i]).toContain('"cause":"vad"');
    expect(log[i + 1]).toContain('"interrupted":true');
    expect(session.playout.speaking).toBe(false);
    for (let k = 0; k < 25; k++) session.audio(null, new Int16Array(320), false);
    expect(log.at(-1)).toMatch(/^speechEnd:/);
    expect(session.counters.framesIn).toBe(frames16k.length + 25);
    expect(session.ring(null)!.length).toBeLessThanOrEqual(32000);
  });

  it('emits speech events without barge-in when the agent is silent', () => {
    const { session, log } = setup(detectors);
    for (const f of frames16k) session.audio(null, f, false);
    expect(log.filter((l) => l.startsWith('speechStart')).length).toBeGreaterThanOrEqual(1);
    expect(log.some((l) => l.startsWith('bargeIn') || l === 'stopAudio')).toBe(false);
  });

  it('skips the VAD for frames flagged silent', () => {
    const { session, log } = setup(detectors);
    for (const f of frames16k) session.audio(null, f, true);
    expect(log.some((l) => l.startsWith('speechStart'))).toBe(false);
    expect(session.counters.silentFrames).toBe(frames16k.length);
  });

  it('DTMF and intermediate transcripts interrupt the agent; final ones and DTMF always emit', () => {
    const { session, log } = setup(detectors);
    session.playout.speak('a1', new Int16Array(16000));
    session.dtmf('5');
    expect(log.slice(0, 4).map((l) => l.split(':')[0])).toEqual(['dtmf', 'stopAudio', 'bargeIn', 'playoutDone']);
    expect(log[2]).toContain('"cause":"dtmf"');
    log.length = 0;
    session.playout.speak('a2', new Int16Array(16000));
    session.transcript('final words', true, 0.9, null);
    expect(log.map((l) => l.split(':')[0])).toEqual(['transcript']);
    session.transcript('wait', false, 0.5, null);
    expect(log.map((l) => l.split(':')[0])).toEqual(['transcript', 'transcript', 'stopAudio', 'bargeIn', 'playoutDone']);
    expect(log[3]).toContain('"cause":"transcript"');
    expect(session.counters.bargeIns).toBe(2);
  });

  it('detects speech in a 24 kHz stream (resampled to 8 kHz for the VAD)', () => {
    const { session, log } = setup(detectors, 24000);
    session.metadata(24000);
    const up = new Int16Array(Math.floor(SPEECH.length * 1.5));
    for (let i = 0; i < up.length; i++) up[i] = SPEECH[Math.floor(i / 1.5)]!;
    for (let i = 0; i + 480 <= up.length; i += 480) session.audio(null, up.subarray(i, i + 480), false);
    expect(log.some((l) => l.startsWith('speechStart'))).toBe(true);
    expect(log[0]).toContain('"sampleRate":24000');
    session.dispose();
  });

  it('detach clears call.media and reports mediaClosed; dispose frees the streams', () => {
    const { call, session, log } = setup(detectors);
    session.audio(null, frames16k[0]!, false);
    session.detach(1006, 'gone');
    expect(call.media).toBeNull();
    expect(log.at(-1)).toBe('mediaClosed:{"code":1006,"reason":"gone"}');
    session.dispose();
    expect(session.streamCount).toBe(0);
  });
});
