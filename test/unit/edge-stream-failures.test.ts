// MediaStreamingFailed / TranscriptionFailed / PlayFailed / RecognizeFailed decided by what they say
// (fixtures: test/fixtures/acs/callback-events.json, status details from the SDK's
// KnownMediaStreamingStatusDetails / KnownTranscriptionStatusDetails; 8522 = TranscriptionFailed without
// a Cognitive Services endpoint), and the turn pipeline's goodbye before the hang-up.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallSupervisor, CANNOT_HEAR_LINE } from '../../src/domain/call-lifecycle.js';
import { CallRegistry, LiveCall } from '../../src/domain/live-call.js';
import type { CallOutcome } from '../../src/domain/call-records.js';
import type { CallbackEnvelope } from '../../src/domain/ports.js';
import { MemoryCallControl } from '../../src/adapters/memory/memory-call-control.js';
import { silentLogger } from '../../src/logger.js';
import { harness } from '../support/convo-harness.js';

interface Fixture {
  readonly name: string;
  readonly raw: { type: string; data: Record<string, unknown> };
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/acs/callback-events.json', import.meta.url), 'utf8')) as Fixture[];
const env = (prefix: string): CallbackEnvelope => {
  const f = fixtures.find((x) => x.name.startsWith(prefix));
  if (!f) throw new Error(prefix);
  return { callId: 'c1', id: `${prefix}-${Math.random()}`, type: f.raw.type.replace('Microsoft.Communication.', ''), data: f.raw.data, time: null };
};

function setup() {
  const control = new MemoryCallControl();
  const registry = new CallRegistry();
  const ended: CallOutcome[] = [];
  const decisions: string[] = [];
  const sup = new CallSupervisor(
    {
      control,
      registry,
      leases: { drop: async () => undefined },
      now: () => Date.now(),
      observer: { ended: (o) => ended.push(o), streamFailure: (t, d) => decisions.push(`${t}:${d}`) },
    },
    { answerTimeoutMs: 1000, mediaConnectTimeoutMs: 3000, maxDurationMs: 600_000, mediaReconnectGraceMs: 500, streamRecoveryMs: 4000, politeHangupMs: 2000 },
  );
  const call = new LiveCall({ callId: 'c1', from: 'f', to: 't', correlationId: null, startedAt: Date.now(), log: silentLogger() });
  const ctl = sup.attach(call);
  ctl.answering();
  registry.bindConnection(call, 'conn-c1');
  ctl.handleCallback({ callId: 'c1', id: 'cc', type: 'CallConnected', data: {}, time: null });
  call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
  const hangups = () => control.ops.filter((o) => o.op === 'hangUp').length;
  return { control, ended, decisions, call, ctl, hangups };
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('stream failures decided by their result', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('MediaStreamingFailed streamConnectionInterrupted waits; MediaStreamingStarted (streamConnectionReestablished) keeps the call', async () => {
    const { ctl, hangups, decisions, ended } = setup();
    ctl.handleCallback(env('MediaStreamingFailed, stream interrupted'));
    await vi.advanceTimersByTimeAsync(2000);
    expect(hangups()).toBe(0);
    ctl.handleCallback(env('MediaStreamingStarted after re-establishment'));
    await vi.advanceTimersByTimeAsync(10_000);
    await flush();
    expect(hangups()).toBe(0);
    expect(ended).toEqual([]);
    expect(decisions).toEqual(['MediaStreamingFailed:wait', 'MediaStreamingStarted:recovered']);
  });

  it('an interrupted media stream that is never re-established ends the call (failed) after the recovery bound', async () => {
    const { ctl, hangups, ended, call } = setup();
    const goodbye = vi.fn();
    call.events.on('unrecoverable', goodbye);
    ctl.handleCallback(env('MediaStreamingFailed, stream interrupted'));
    await vi.advanceTimersByTimeAsync(4100);
    expect(goodbye).toHaveBeenCalledWith(expect.objectContaining({ reason: 'media-failed' }));
    await vi.advanceTimersByTimeAsync(2100);
    await flush();
    expect(hangups()).toBe(1);
    expect(ended).toEqual(['failed']);
  });

  it('MediaStreamingFailed streamConnectionUnsuccessful (500/8603) restarts streaming (startMediaStreaming); never back: goodbye, hang-up, outcome failed', async () => {
    const { ctl, hangups, ended, call, control } = setup();
    const goodbye = vi.fn();
    call.events.on('unrecoverable', goodbye);
    ctl.handleCallback(env('MediaStreamingFailed, connection unsuccessful'));
    await flush();
    expect(control.ops.filter((o) => o.op === 'startMediaStreaming')).toEqual([{ op: 'startMediaStreaming', callConnectionId: 'conn-c1', operationContext: 'c1' }]);
    expect(goodbye).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(4100);
    expect(goodbye).toHaveBeenCalledWith(expect.objectContaining({ reason: 'media-failed' }));
    await vi.advanceTimersByTimeAsync(2100);
    await flush();
    expect(hangups()).toBe(1);
    expect(ended).toEqual(['failed']);
  });

  it('an interrupted stream that ACS does not re-establish is restarted after 3 s; the new socket keeps the call', async () => {
    const { ctl, hangups, ended, call, control, decisions } = setup();
    ctl.handleCallback(env('MediaStreamingFailed, stream interrupted'));
    await vi.advanceTimersByTimeAsync(2900);
    expect(control.ops.some((o) => o.op === 'startMediaStreaming')).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await flush();
    expect(control.ops.filter((o) => o.op === 'startMediaStreaming')).toHaveLength(1);
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: true });
    await vi.advanceTimersByTimeAsync(10_000);
    await flush();
    expect(hangups()).toBe(0);
    expect(ended).toEqual([]);
    expect(decisions).toEqual(['MediaStreamingFailed:wait', 'MediaStreamingFailed:restart']);
  });

  it('a MediaStreamingFailed that arrives while the call has an open socket again (held, collected late) is ignored', async () => {
    const { ctl, hangups, call, control, decisions } = setup();
    call.media = {} as NonNullable<LiveCall['media']>;
    ctl.handleCallback(env('MediaStreamingFailed, connection unsuccessful'));
    await vi.advanceTimersByTimeAsync(10_000);
    await flush();
    expect(control.ops.some((o) => o.op === 'startMediaStreaming')).toBe(false);
    expect(hangups()).toBe(0);
    expect(decisions).toEqual(['MediaStreamingFailed:stale']);
  });

  it('TranscriptionFailed 8522 ends the call politely: "cannot hear you", hang-up, outcome failed', async () => {
    const { ctl, hangups, ended, call, decisions } = setup();
    const goodbye = vi.fn();
    call.events.on('unrecoverable', goodbye);
    ctl.handleCallback(env('TranscriptionFailed 8522'));
    expect(goodbye).toHaveBeenCalledWith(expect.objectContaining({ reason: 'transcription-failed', line: CANNOT_HEAR_LINE }));
    await vi.advanceTimersByTimeAsync(2100);
    await flush();
    expect(hangups()).toBe(1);
    expect(ended).toEqual(['failed']);
    expect(decisions).toEqual(['TranscriptionFailed:fatal']);
  });

  it('PlayFailed and RecognizeFailed are counted; the call goes on', async () => {
    const { ctl, hangups, ended, decisions } = setup();
    ctl.handleCallback(env('PlayFailed'));
    ctl.handleCallback(env('RecognizeFailed'));
    await vi.advanceTimersByTimeAsync(30_000);
    await flush();
    expect(hangups()).toBe(0);
    expect(ended).toEqual([]);
    expect(decisions).toEqual(['PlayFailed:continue', 'RecognizeFailed:continue']);
  });
});

describe('the goodbye before an unrecoverable hang-up', () => {
  it('the turn pipeline says the line on the media outlet, then hangs up', async () => {
    const h = harness();
    const { call, outlet } = h.newCall();
    call.events.emit('unrecoverable', { reason: 'transcription-failed', line: CANNOT_HEAR_LINE, detail: '8522' });
    await vi.waitFor(() => expect(h.control.ops.some((o) => o.op === 'hangUp')).toBe(true), { timeout: 8000 });
    expect(outlet.utterances.length).toBe(1);
    expect(h.spy.calls).toEqual([CANNOT_HEAR_LINE]);
    // No further turns once the goodbye started.
    call.events.emit('transcript', { text: 'hello?', final: true, confidence: 0.9, participant: null, at: Date.now() });
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.history(call.callId)).some((t) => t.text === 'hello?')).toBe(false);
  });
});
