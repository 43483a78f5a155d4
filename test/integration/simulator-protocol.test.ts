// 20 concurrent simulated calls against a minimal receiver that uses the real SDK: every message the
// simulator sends must match the documented shapes, and StreamingData.parse must accept every media
// message (the garbage scenario excepted: it sends malformed frames on purpose).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingData } from '@azure/communication-call-automation';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import type { SimReport } from '../../src/simulator/report.js';
import { startTestReceiver, type TestReceiver } from '../support/sim-test-receiver.js';
import { checkCloudEvent, checkEventGridEvent, checkMediaMessage, type MediaStreamState } from '../support/acs-shapes.js';

describe('simulator protocol under 20 concurrent calls', () => {
  let sim: Simulator;
  let rx: TestReceiver;
  let report: SimReport;

  beforeAll(async () => {
    sim = await startSimulator();
    rx = await startTestReceiver({ acsConnectionString: sim.acsConnectionString, jwksUrl: sim.jwksUrl, issuer: sim.issuer, resourceId: sim.resourceId, vary: true, rejectFirstDeliveries: 3 });
    report = await sim.runCalls({
      target: rx.incomingCallUrl,
      calls: 20,
      concurrency: 20,
      rampS: 1,
      scenario: 'qa,barge-in,dtmf,hangup-mid-reply,reconnect,silence,garbage',
      duplicateRate: 0.3,
      // The receiver refuses the first deliveries: redeliver on the documented schedule, 100x faster.
      fastRetry: true,
    });
  });

  afterAll(async () => {
    await sim?.close();
    await rx?.close();
  });

  it('completes every call without failures', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.calls.succeeded).toBe(20);
    expect(rx.answerErrors).toBe(0);
    expect(rx.refused).toEqual({ callbacks: 0, media: 0 });
  });

  it('answers each call exactly once even when IncomingCall is redelivered', () => {
    for (const c of sim.calls) expect(c.answers).toBe(1);
    // 3 deliveries refused with 503 and redelivered, plus the deliberate duplicates
    expect(report.incomingCallDeliveries).toBeGreaterThanOrEqual(23);
    expect(sim.calls.filter((c) => c.incomingCallDeliveries > 1).length).toBeGreaterThanOrEqual(3);
  });

  it('streams in the format and channel layout the worker asked for', () => {
    const formats = new Set<string>();
    for (const c of rx.calls.values()) {
      const msgs = c.mediaMessages.flatMap((t) => {
        try {
          return [JSON.parse(t) as { kind: string; audioMetadata?: { sampleRate: number }; audioData?: { participantRawID?: string } }];
        } catch {
          return []; // the garbage scenario's deliberately broken frame
        }
      });
      const meta = msgs.find((m) => m.kind === 'AudioMetadata');
      expect(meta?.audioMetadata?.sampleRate).toBe(c.audioFormat === 'pcm24KMono' ? 24000 : 16000);
      formats.add(c.audioFormat + c.channels);
      const audio = msgs.filter((m) => m.kind === 'AudioData' && m.audioData?.participantRawID !== undefined);
      if (c.channels === 'unmixed') expect(audio.length).toBeGreaterThan(0);
      else expect(audio).toHaveLength(0);
    }
    expect(formats.size).toBe(4);
  });

  it('sends Event Grid events of the documented shape', () => {
    expect(rx.eventGridEvents.length).toBeGreaterThan(20);
    for (const e of rx.eventGridEvents) expect(checkEventGridEvent(e)).toEqual([]);
  });

  it('sends CloudEvents of the documented shape, in order, with unique ids per event', () => {
    for (const c of rx.calls.values()) {
      const types = c.callbacks.map((e) => String(e.type).replace('Microsoft.Communication.', ''));
      expect(types[0]).toBe('CallConnected');
      expect(types).toContain('MediaStreamingStarted');
      expect(types).toContain('TranscriptionStarted');
      expect(types[types.length - 1]).toBe('CallDisconnected');
      for (const e of c.callbacks) expect(checkCloudEvent(e)).toEqual([]);
      const data = c.callbacks.map((e) => e.data as { callConnectionId: string });
      for (const d of data) expect(d.callConnectionId).toBe(c.callConnectionId);
    }
    const all = [...rx.calls.values()].flatMap((c) => c.callbacks.map((e) => String(e.id)));
    const dupes = all.length - new Set(all).size;
    expect(dupes).toBe(report.callbacks.duplicated);
  });

  it('sends media messages of the documented shape that the SDK parses', () => {
    const garbage = new Set(sim.calls.filter((c) => c.scenario.includes('garbage')).map((c) => c.callConnectionId));
    let checked = 0;
    const kinds = new Set<string>();
    for (const c of rx.calls.values()) {
      expect(c.mediaHeaders.length).toBeGreaterThan(0);
      for (const h of c.mediaHeaders) expect(h.connectionId).toBe(c.callConnectionId);
      if (garbage.has(c.callConnectionId)) continue;
      const state: MediaStreamState = { seen: 0 };
      for (const text of c.mediaMessages) {
        const kind = (JSON.parse(text) as { kind: string }).kind;
        kinds.add(kind);
        if (kind === 'AudioMetadata') state.seen = 0; // a reconnect starts a new stream
        expect(checkMediaMessage(text, state), text.slice(0, 120)).toEqual([]);
        expect(() => StreamingData.parse(text)).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect([...kinds].sort()).toEqual(['AudioData', 'AudioMetadata', 'DtmfData', 'TranscriptionData', 'TranscriptionMetadata']);
  });

  it('records the worker side: agent frames, stopAudio on barge-in, reconnects, latencies', () => {
    const barge = sim.calls.filter((c) => c.scenario === 'barge-in');
    expect(barge.length).toBeGreaterThan(0);
    for (const c of barge) expect(c.stopAudioTimes.length).toBeGreaterThan(0);
    for (const c of sim.calls.filter((c) => c.scenario === 'reconnect')) expect(c.mediaConnections).toBe(2);
    for (const c of sim.calls.filter((c) => c.scenario !== 'silence')) expect(c.outboundFrames).toBeGreaterThan(0);
    expect(report.latency.answer.count).toBe(20);
    expect(report.latency.turn.count).toBeGreaterThan(0);
    expect(report.latency.bargeIn.count).toBe(barge.length);
    expect(report.frames.received).toBeGreaterThan(0);
    expect(report.protocolViolations).toBe(0);
  });
});
