// Transcription forwarded from a replica without the call's audio to its owner (media-forwarding.ts):
// the sender's envelopes go through the router and the pub/sub wire format (parseEnvelope) to the
// owner's forwarder, which applies them to a real media session. An intermediate result while the agent
// speaks barges in; a DTMF tone reaches the call and barges in; a transcript of another participant
// is ignored there (participant filtering on the owner); order is kept; a failed forward of a final
// result is retried, an intermediate one is not; with no owner yet the event is held.
import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { LiveCall } from '../../src/domain/live-call.js';
import { MediaSession } from '../../src/domain/audio/media-session.js';
import { PlayoutScheduler, DEFAULT_PLAYOUT, type PlayoutClock } from '../../src/domain/audio/playout.js';
import type { PlayoutSink } from '../../src/domain/audio/playout-channel.js';
import type { VoiceDetectorFactory } from '../../src/domain/audio/vad.js';
import type { CallbackEnvelope, EventRouter } from '../../src/domain/ports.js';
import { parseEnvelope } from '../../src/adapters/redis/redis-event-router.js';
import { createMediaForwarder, decodeRemote, FORWARDED_DTMF, FORWARDED_TRANSCRIPT, type MediaForwarder } from '../../src/wiring/media-forwarding.js';
import { silentLogger } from '../../src/logger.js';

const CALLER = '4:+15550001234';
const AGENT_LEG = '8:acs:00000000-0000-0000-0000-000000000000_callautomation';
const manualClock: PlayoutClock = { now: () => 0, schedule: () => () => undefined };
const noDetectors: VoiceDetectorFactory = () => {
  throw new Error('no audio in these tests');
};

function ownerSession(callId: string) {
  const call = new LiveCall({ callId, from: CALLER, to: 'us', correlationId: null, startedAt: 0, log: silentLogger(), callerRawId: CALLER });
  const scheduler = new PlayoutScheduler(manualClock, DEFAULT_PLAYOUT, { onFrameSent: () => undefined, onSlowSocket: () => undefined, onResync: () => undefined });
  const session = new MediaSession(
    { call, scheduler, detectors: noDetectors, monotonic: () => 0, wall: () => 0 },
    { ringSeconds: 1, vadOnsetFrames: 2, vadHangoverMs: 400, sampleRate: 16000, channels: 'mixed', maxStreams: 1 },
  );
  const out: string[] = [];
  const sink: PlayoutSink = { bufferedAmount: () => 0, sendFrame: () => undefined, sendStop: () => out.push('stopAudio') };
  session.attach(sink);
  call.events.on('transcript', (e) => out.push(`transcript:${e.final ? 'final' : 'intermediate'}:${e.text}`));
  call.events.on('dtmf', (e) => out.push(`dtmf:${e.tone}`));
  call.events.on('bargeIn', (e) => out.push(`bargeIn:${e.cause}`));
  call.events.on('ignoredParticipant', () => out.push('ignored'));
  return { call, session, out };
}

/** A router that "publishes" to the owner: the envelope crosses the wire as JSON (as over Redis pub/sub). */
function wireRouter(deliver: (env: CallbackEnvelope) => boolean, behaviour: { fail?: number; hold?: boolean } = {}) {
  const sent: CallbackEnvelope[] = [];
  let failures = behaviour.fail ?? 0;
  const router: Pick<EventRouter, 'forward'> = {
    async forward(env) {
      if (failures > 0) {
        failures--;
        throw new Error('redis down');
      }
      const wire = parseEnvelope(JSON.stringify(env));
      if (!wire) throw new Error('envelope does not survive the wire');
      sent.push(wire);
      if (behaviour.hold) return 'held';
      deliver(wire);
      return 'forwarded';
    },
  };
  return { router, sent };
}

function counterIn(registry: Registry): Counter<'kind' | 'result'> {
  return new Counter({ name: 'voice_media_remote_events_total', help: 'h', labelNames: ['kind', 'result'], registers: [registry] });
}

async function value(registry: Registry, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric('voice_media_remote_events_total')!.get();
  return m.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((a, v) => a + v.value, 0);
}

function pair(behaviour: { fail?: number; hold?: boolean } = {}) {
  const owner = ownerSession('call-1');
  const ownerRegistry = new Registry();
  const senderRegistry = new Registry();
  const ownerSide: MediaForwarder = createMediaForwarder({
    router: { forward: () => Promise.reject(new Error('the owner does not forward')) },
    sessionOf: (id) => (id === 'call-1' ? owner.session : undefined),
    counter: counterIn(ownerRegistry),
    log: silentLogger(),
  });
  const wire = wireRouter((env) => ownerSide.apply(env), behaviour);
  const sender = createMediaForwarder(
    { router: wire.router, sessionOf: () => undefined, counter: counterIn(senderRegistry), log: silentLogger(), sleep: async () => undefined },
    { maxPendingPerCall: 8, attempts: 3, retryDelayMs: 1 },
  );
  return { owner, sender, wire, ownerRegistry, senderRegistry };
}

describe('transcription forwarded to the call owner', () => {
  it('an intermediate result while the agent speaks barges in on the owner (stopAudio), a final one becomes a transcript', async () => {
    const { owner, sender, wire, ownerRegistry, senderRegistry } = pair();
    owner.session.playout.speak('agent-1', new Int16Array(16000 * 5));
    sender.send('call-1', { kind: 'transcript', text: 'wait', final: false, confidence: 0.5, participant: CALLER });
    sender.send('call-1', { kind: 'transcript', text: 'wait a moment', final: true, confidence: 0.9, participant: CALLER });
    await sender.idle();
    expect(wire.sent.map((e) => e.type)).toEqual([FORWARDED_TRANSCRIPT, FORWARDED_TRANSCRIPT]);
    expect(owner.out).toEqual(['transcript:intermediate:wait', 'stopAudio', 'bargeIn:transcript', 'transcript:final:wait a moment']);
    expect(owner.session.playout.speaking).toBe(false);
    expect(await value(senderRegistry, { kind: 'transcript_intermediate', result: 'forwarded' })).toBe(1);
    expect(await value(ownerRegistry, { kind: 'transcript_intermediate', result: 'delivered' })).toBe(1);
    expect(await value(ownerRegistry, { kind: 'transcript_final', result: 'delivered' })).toBe(1);
  });

  it('a DTMF tone reaches the owner as a tone (and barges in while the agent speaks)', async () => {
    const { owner, sender, wire, ownerRegistry } = pair();
    owner.session.playout.speak('agent-1', new Int16Array(16000 * 5));
    for (const tone of ['1', '2', '#']) sender.send('call-1', { kind: 'dtmf', tone });
    await sender.idle();
    expect(wire.sent.map((e) => e.type)).toEqual([FORWARDED_DTMF, FORWARDED_DTMF, FORWARDED_DTMF]);
    expect(owner.out.filter((l) => l.startsWith('dtmf:'))).toEqual(['dtmf:1', 'dtmf:2', 'dtmf:#']);
    expect(owner.out).toContain('bargeIn:dtmf');
    expect(await value(ownerRegistry, { kind: 'dtmf', result: 'delivered' })).toBe(3);
  });

  it("the owner filters participants as for local transcripts: the agent leg's words are ignored", async () => {
    const { owner, sender } = pair();
    owner.session.playout.speak('agent-1', new Int16Array(16000 * 5));
    sender.send('call-1', { kind: 'transcript', text: 'hello from the agent', final: false, confidence: 0.9, participant: AGENT_LEG });
    await sender.idle();
    expect(owner.out).toEqual(['ignored']);
    expect(owner.session.playout.speaking).toBe(true);
  });

  it('retries a final result after a failed forward; an intermediate one is sent once and counted failed', async () => {
    const final = pair({ fail: 2 });
    final.sender.send('call-1', { kind: 'transcript', text: 'my balance', final: true, confidence: 0.9, participant: CALLER });
    await final.sender.idle();
    expect(final.owner.out).toEqual(['transcript:final:my balance']);

    const hint = pair({ fail: 1 });
    hint.sender.send('call-1', { kind: 'transcript', text: 'my', final: false, confidence: 0.4, participant: CALLER });
    hint.sender.send('call-1', { kind: 'dtmf', tone: '5' });
    await hint.sender.idle();
    expect(hint.owner.out).toEqual(['dtmf:5']);
    expect(await value(hint.senderRegistry, { kind: 'transcript_intermediate', result: 'failed' })).toBe(1);
  });

  it('with no owner yet the event is held (for the owner to collect) and counted held', async () => {
    const { owner, sender, wire, senderRegistry } = pair({ hold: true });
    sender.send('call-1', { kind: 'dtmf', tone: '7' });
    await sender.idle();
    expect(owner.out).toEqual([]);
    expect(wire.sent).toHaveLength(1);
    expect(decodeRemote(wire.sent[0]!)).toEqual({ kind: 'dtmf', tone: '7' });
    expect(await value(senderRegistry, { kind: 'dtmf', result: 'held' })).toBe(1);
  });

  it('applies in process when the call has a media session on the sending replica (its audio came here)', async () => {
    const local = ownerSession('call-2');
    const registry = new Registry();
    const router = { forward: () => Promise.reject(new Error('must not be forwarded')) };
    const fwd = createMediaForwarder({ router, sessionOf: (id) => (id === 'call-2' ? local.session : undefined), counter: counterIn(registry), log: silentLogger() });
    fwd.send('call-2', { kind: 'dtmf', tone: '9' });
    await fwd.idle();
    expect(local.out).toEqual(['dtmf:9']);
    expect(await value(registry, { kind: 'dtmf', result: 'local' })).toBe(1);
  });

  it('the owner refuses (false) an event for a call it has no session of, so the router parks it; a malformed one is consumed', () => {
    const registry = new Registry();
    const fwd = createMediaForwarder({ router: { forward: async () => 'held' }, sessionOf: () => undefined, counter: counterIn(registry), log: silentLogger() });
    expect(fwd.apply({ callId: 'x', id: '1', type: FORWARDED_DTMF, data: { tone: '1' }, time: null })).toBe(false);
    expect(fwd.apply({ callId: 'x', id: '2', type: FORWARDED_TRANSCRIPT, data: { text: 1 }, time: null })).toBe(true);
  });
});
