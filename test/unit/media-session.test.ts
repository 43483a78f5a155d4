// The per-call media session with the real WebRTC VAD on real speech (Flite, test/fixtures): speech
// events, a barge-in pause within 2 inbound frames of the first voiced frame (then resumed without
// words, confirmed with them), the agent's own echo never pausing it, DTMF and intermediate-transcript barge-in,
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

/** First frame whose energy is at or above `db` dBFS: where the phrase audibly starts. */
function energyOnset(frames: Int16Array[], db = -40): number {
  return frames.findIndex((f) => {
    let e = 0;
    for (const v of f) e += v * v;
    return 10 * Math.log10(e / f.length / 32768 ** 2 + 1e-12) >= db;
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
  for (const name of ['speechStart', 'speechEnd', 'bargeIn', 'playoutPaused', 'playoutResumed', 'playoutDone', 'dtmf', 'transcript', 'mediaConnected', 'mediaClosed'] as const) {
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

  it('pauses the agent (stopAudio) within 2 inbound frames of the first voiced frame; no words: resumes, turn kept', () => {
    const { call, session, log } = setup(detectors);
    const abort = call.turnAbort.signal;
    expect(call.media).toBe(session.playout);
    session.playout.speak('agent-1', new Int16Array(16000 * 5));
    const onset = energyOnset(frames16k, -45);
    expect(onset).toBeGreaterThan(5);
    let stoppedAt = -1;
    for (const [i, f] of frames16k.entries()) {
      session.audio(null, f, false);
      if (log.includes('stopAudio')) {
        stoppedAt = i;
        break;
      }
    }
    // The frame that completes the run of two (onset + 1) sends stopAudio.
    expect(stoppedAt).toBe(onset + 1);
    expect(log.some((l) => l.startsWith('bargeIn'))).toBe(false);
    expect(abort.aborted).toBe(false);
    expect(session.playout.paused).toBe(true);
    expect(session.playout.speaking).toBe(true);
    // The caller finishes, goes quiet and no words come: the reply resumes.
    for (const f of frames16k.slice(stoppedAt + 1)) session.audio(null, f, false);
    for (let k = 0; k < 40; k++) session.audio(null, new Int16Array(320), false);
    expect(session.playout.paused).toBe(false);
    expect(log.filter((l) => l === 'stopAudio')).toHaveLength(1);
    expect(log.some((l) => l.startsWith('playoutResumed:{') && l.includes('"utteranceId":"agent-1"'))).toBe(true);
    expect(abort.aborted).toBe(false);
    expect(log.some((l) => l.startsWith('speechEnd:'))).toBe(true);
    expect(session.counters.framesIn).toBe(frames16k.length + 40);
    expect(session.counters.bargeIns).toBe(0);
    expect(session.ring(null)!.length).toBeLessThanOrEqual(32000);
  });

  it('words during the pause confirm the barge-in: reply dropped, turn cancelled, then the transcript', () => {
    const { call, session, log } = setup(detectors);
    const abort = call.turnAbort.signal;
    session.playout.speak('agent-1', new Int16Array(16000 * 5));
    const onset = energyOnset(frames16k, -45);
    for (const f of frames16k.slice(0, onset + 2)) session.audio(null, f, false);
    expect(session.playout.paused).toBe(true);
    log.length = 0;
    session.transcript('sorry wait', true, 0.9, null);
    expect(log.map((l) => l.split(':')[0])).toEqual(['bargeIn', 'playoutDone', 'transcript']);
    expect(log[0]).toContain('"cause":"transcript"');
    expect(log[0]).toContain('"utteranceId":"agent-1"');
    expect(log[1]).toContain('"interrupted":true');
    expect(abort.aborted).toBe(true);
    expect(session.playout.speaking).toBe(false);
    expect(session.counters.bargeIns).toBe(1);
  });

  it("the agent's own audio coming back at -25 dB (poor echo cancellation) never pauses it", () => {
    const { session, log } = setup(detectors);
    // The agent speaks the phrase; the caller's stream carries it back 3 frames later at -25 dB.
    const agent = new Int16Array(SPEECH.length);
    agent.set(SPEECH);
    session.playout.speak('agent-1', agent);
    const gain = 10 ** (-25 / 20);
    const echo = frames16k.map((f) => Int16Array.from(f, (v) => Math.round(v * gain)));
    const frames = [...Array.from({ length: 3 }, () => new Int16Array(320)), ...echo];
    let now = 0;
    for (const f of frames) {
      // The playout advances one frame per inbound frame (the fake scheduler's clock stands still).
      session.playout.pump((now += 20), now, session.playout['scheduler' as never]);
      session.audio(null, f, false);
    }
    expect(log.filter((l) => l === 'stopAudio')).toHaveLength(0);
    // The gate learned the line's echo return loss: about 25 dB.
    expect(session.echoGate.erlDb).toBeGreaterThan(20);
    expect(session.echoGate.erlDb).toBeLessThan(32);
    // The caller really talks over the agent (double talk, echo still there): that does pause it.
    session.playout.speak('agent-2', agent);
    const onset = energyOnset(frames16k, -45);
    for (const [i, f] of frames16k.entries()) {
      session.playout.pump((now += 20), now, session.playout['scheduler' as never]);
      const mixed = Int16Array.from(f, (v, k) => Math.max(-32768, Math.min(32767, v + Math.round((frames16k[i - 3]?.[k] ?? 0) * gain))));
      session.audio(null, mixed, false);
      if (log.includes('stopAudio')) {
        expect(i).toBeLessThanOrEqual(onset + 3);
        break;
      }
    }
    expect(log.filter((l) => l === 'stopAudio')).toHaveLength(1);
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
