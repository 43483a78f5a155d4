import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallSupervisor, type CallTimeoutKind } from '../../src/domain/call-lifecycle.js';
import { CallRegistry, LiveCall } from '../../src/domain/live-call.js';
import type { CallOutcome } from '../../src/domain/call-records.js';
import type { CallbackEnvelope } from '../../src/domain/ports.js';
import { MemoryCallControl } from '../../src/adapters/memory/memory-call-control.js';
import { silentLogger } from '../../src/logger.js';

const CFG = { answerTimeoutMs: 1000, mediaConnectTimeoutMs: 3000, maxDurationMs: 60_000, mediaReconnectGraceMs: 500 };

function setup() {
  const control = new MemoryCallControl();
  const registry = new CallRegistry();
  const dropped: string[] = [];
  const timeouts: CallTimeoutKind[] = [];
  const illegal: string[] = [];
  const ended: CallOutcome[] = [];
  const sup = new CallSupervisor(
    {
      control,
      registry,
      leases: { drop: async (id) => void dropped.push(id) },
      now: () => Date.now(),
      observer: { timeout: (k) => timeouts.push(k), illegal: (f, t) => illegal.push(`${f}>${t}`), ended: (o) => ended.push(o) },
    },
    CFG,
  );
  const finalized: { callId: string; outcome: CallOutcome }[] = [];
  sup.onFinalize(async (call, outcome) => void finalized.push({ callId: call.callId, outcome }));
  const newCall = (id = 'c1') => {
    const call = new LiveCall({ callId: id, from: '4:+***12', to: '4:+***34', correlationId: 'corr', startedAt: Date.now(), log: silentLogger() });
    const ctl = sup.attach(call);
    ctl.answering();
    registry.bindConnection(call, `conn-${id}`);
    return { call, ctl };
  };
  return { control, registry, dropped, timeouts, illegal, ended, sup, finalized, newCall };
}

const ev = (type: string, id = type): CallbackEnvelope => ({ callId: 'c1', id, type, data: { callConnectionId: 'conn-c1' }, time: null });
const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('call lifecycle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('follows callbacks and media events through the phases', async () => {
    const { newCall, sup } = setup();
    const { call, ctl } = newCall();
    const connected = vi.fn();
    call.events.on('connected', connected);
    expect(call.phase).toBe('answering');
    ctl.handleCallback(ev('CallConnected'));
    expect(call.phase).toBe('connected');
    expect(connected).toHaveBeenCalledOnce();
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    expect(call.phase).toBe('streaming');
    ctl.handleCallback(ev('MediaStreamingStarted'));
    expect(call.phase).toBe('streaming');
    // No timer fires while the call is healthy.
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 10);
    expect(sup.get('c1')?.finalized).toBe(false);
  });

  it('media before CallConnected: streaming stays streaming and connected is emitted once', () => {
    const { newCall, illegal } = setup();
    const { call, ctl } = newCall();
    const connected = vi.fn();
    call.events.on('connected', connected);
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    expect(call.phase).toBe('streaming');
    ctl.handleCallback(ev('CallConnected'));
    ctl.handleCallback(ev('CallConnected', 'again'));
    expect(call.phase).toBe('streaming');
    expect(connected).toHaveBeenCalledOnce();
    expect(illegal).toEqual([]);
  });

  it('counts an illegal transition and keeps the phase', () => {
    const { newCall, illegal } = setup();
    const { call, ctl } = newCall();
    ctl.handleCallback(ev('CallConnected'));
    void ctl.hangUp('agent-hangup', 'test');
    ctl.handleCallback(ev('MediaStreamingStarted'));
    expect(illegal).toContain('disconnecting>streaming');
    expect(['disconnecting', 'ended']).toContain(call.phase);
  });

  it('answer timeout: no CallConnected → hang up and finalize with timeout', async () => {
    const { newCall, control, finalized, timeouts, registry, dropped } = setup();
    const { call } = newCall();
    await vi.advanceTimersByTimeAsync(CFG.answerTimeoutMs + 1);
    expect(timeouts).toEqual(['answer']);
    expect(control.ops.filter((o) => o.op === 'hangUp')).toHaveLength(1);
    expect(finalized).toEqual([{ callId: 'c1', outcome: 'timeout' }]);
    expect(call.phase).toBe('ended');
    expect(registry.get('c1')).toBeUndefined();
    expect(dropped).toEqual(['c1']);
  });

  it('media-connect timeout: connected but no socket → hang up', async () => {
    const { newCall, control, finalized, timeouts } = setup();
    const { ctl } = newCall();
    ctl.handleCallback(ev('CallConnected'));
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 1);
    expect(timeouts).toEqual(['media-connect']);
    expect(control.ops.map((o) => o.op)).toEqual(['hangUp']);
    expect(finalized[0]?.outcome).toBe('timeout');
  });

  it('maximum duration ends the call', async () => {
    const { newCall, timeouts, finalized } = setup();
    const { call, ctl } = newCall();
    ctl.handleCallback(ev('CallConnected'));
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    await vi.advanceTimersByTimeAsync(CFG.maxDurationMs + 1);
    expect(timeouts).toEqual(['max-duration']);
    expect(finalized).toHaveLength(1);
  });

  it('a media reconnect within the grace period keeps the call', async () => {
    const { newCall, finalized } = setup();
    const { call, ctl } = newCall();
    ctl.handleCallback(ev('CallConnected'));
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    call.events.emit('mediaClosed', { code: 1006, reason: '' });
    await vi.advanceTimersByTimeAsync(CFG.mediaReconnectGraceMs - 100);
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: true });
    await vi.advanceTimersByTimeAsync(CFG.mediaReconnectGraceMs * 4);
    expect(finalized).toEqual([]);
    expect(call.phase).toBe('streaming');
  });

  it('media closed for good → disconnected, hang up, finalize', async () => {
    const { newCall, finalized, timeouts, control } = setup();
    const { call, ctl } = newCall();
    const disconnected = vi.fn();
    call.events.on('disconnected', disconnected);
    ctl.handleCallback(ev('CallConnected'));
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    call.events.emit('mediaClosed', { code: 1006, reason: '' });
    await vi.advanceTimersByTimeAsync(CFG.mediaReconnectGraceMs + 1);
    expect(timeouts).toEqual(['media-lost']);
    expect(disconnected).toHaveBeenCalledOnce();
    expect(control.ops.map((o) => o.op)).toEqual(['hangUp']);
    expect(finalized).toEqual([{ callId: 'c1', outcome: 'failed' }]);
  });

  it('finalizes exactly once when CallDisconnected, socket close and a timeout race', async () => {
    const { newCall, finalized, ended, dropped } = setup();
    const { call, ctl } = newCall();
    const endedEvents = vi.fn();
    const disconnected = vi.fn();
    call.events.on('ended', endedEvents);
    call.events.on('disconnected', disconnected);
    ctl.handleCallback(ev('CallConnected'));
    call.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    call.events.emit('mediaClosed', { code: 1000, reason: 'bye' });
    // The grace timer and the maximum duration fire in the same tick as the callback and its redelivery.
    vi.advanceTimersByTime(CFG.mediaReconnectGraceMs);
    ctl.handleCallback(ev('CallDisconnected'));
    ctl.handleCallback(ev('CallDisconnected', 'other-id'));
    void ctl.finalize('timeout', 'test');
    await vi.advanceTimersByTimeAsync(CFG.maxDurationMs);
    await flush();
    expect(finalized).toHaveLength(1);
    expect(endedEvents).toHaveBeenCalledOnce();
    expect(disconnected).toHaveBeenCalledOnce();
    expect(ended).toHaveLength(1);
    expect(dropped).toEqual(['c1']);
  });

  it('concurrent hang-ups send one request', async () => {
    const { newCall, control, finalized } = setup();
    const { ctl } = newCall();
    ctl.handleCallback(ev('CallConnected'));
    await Promise.all([ctl.hangUp('agent-hangup', 'a'), ctl.hangUp('timeout', 'b'), ctl.hangUp('failed', 'c')]);
    expect(control.ops.map((o) => o.op)).toEqual(['hangUp']);
    expect(finalized).toEqual([{ callId: 'c1', outcome: 'agent-hangup' }]);
  });

  it('CallDisconnected after our own hang up finalizes with our outcome, once', async () => {
    const { newCall, finalized } = setup();
    const { ctl } = newCall();
    ctl.handleCallback(ev('CallConnected'));
    const p = ctl.hangUp('agent-hangup', 'goodbye');
    ctl.handleCallback(ev('CallDisconnected'));
    await p;
    await flush();
    expect(finalized).toEqual([{ callId: 'c1', outcome: 'agent-hangup' }]);
  });

  it('a throwing finalizer hook does not stop the others or the lease release', async () => {
    const { newCall, sup, finalized, dropped } = setup();
    sup.onFinalize(async () => {
      throw new Error('archive down');
    });
    const { ctl } = newCall();
    await ctl.finalize('completed', 'test');
    expect(finalized).toHaveLength(1);
    expect(dropped).toEqual(['c1']);
  });

  it('abandon forgets the call without finalizer hooks or timers', async () => {
    const { newCall, finalized, registry, control } = setup();
    const { ctl } = newCall();
    ctl.abandon('answer failed');
    await vi.advanceTimersByTimeAsync(CFG.maxDurationMs + 1);
    expect(finalized).toEqual([]);
    expect(control.ops).toEqual([]);
    expect(registry.size).toBe(0);
  });

  it('lets go without hanging up when the media socket moved to another replica', async () => {
    const control = new MemoryCallControl();
    const registry = new CallRegistry();
    const finalized: string[] = [];
    let owner: string | null = 'w-other';
    const sup = new CallSupervisor(
      { control, registry, leases: { drop: async () => undefined }, now: () => Date.now(), ownerOf: async () => owner, workerId: 'w-me' },
      CFG,
    );
    sup.onFinalize(async (call) => void finalized.push(call.callId));
    const mk = (id: string) => {
      const call = new LiveCall({ callId: id, from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log: silentLogger() });
      const ctl = sup.attach(call);
      ctl.answering();
      registry.bindConnection(call, `conn-${id}`);
      ctl.handleCallback({ callId: id, id: `${id}-c`, type: 'CallConnected', data: {}, time: null });
      return call;
    };
    mk('moved');
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 1);
    expect(control.ops).toEqual([]);
    expect(finalized).toEqual([]);
    expect(registry.get('moved')).toBeUndefined();
    // Nobody owns it (the socket never came anywhere): hang up as usual.
    owner = null;
    mk('lost');
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 1);
    expect(control.ops.map((o) => o.op)).toEqual(['hangUp']);
    expect(finalized).toEqual(['lost']);
  });

  it('does not hang up while the owner cannot be looked up (Redis down): asks again, then lets go when the owner is known', async () => {
    const control = new MemoryCallControl();
    const registry = new CallRegistry();
    let lookup: () => Promise<string | null> = async () => {
      throw new Error('redis ownerOf: connection refused');
    };
    const sup = new CallSupervisor({ control, registry, leases: { drop: async () => undefined }, now: () => Date.now(), ownerOf: () => lookup(), workerId: 'w-me' }, CFG);
    const call = new LiveCall({ callId: 'unknown-owner', from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log: silentLogger() });
    const ctl = sup.attach(call);
    ctl.answering();
    registry.bindConnection(call, 'conn-u');
    ctl.handleCallback({ callId: 'unknown-owner', id: 'u-c', type: 'CallConnected', data: {}, time: null });
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs * 3 + 1);
    expect(control.ops).toEqual([]);
    expect(registry.get('unknown-owner')).toBe(call);
    // Redis answers again: the socket is on another replica, so this one lets go (no hang-up).
    lookup = async () => 'w-other';
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 1);
    expect(control.ops).toEqual([]);
    expect(registry.get('unknown-owner')).toBeUndefined();
  });

  it('no owner in a store that just came back (maybe empty, the owner has not re-asserted yet) is no proof: asks again instead of hanging up', async () => {
    const control = new MemoryCallControl();
    const registry = new CallRegistry();
    let owner: string | null = null;
    let settling = true;
    const sup = new CallSupervisor(
      { control, registry, leases: { drop: async () => undefined }, now: () => Date.now(), ownerOf: async () => owner, workerId: 'w-me', storeSettling: () => settling },
      CFG,
    );
    const call = new LiveCall({ callId: 'settling', from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log: silentLogger() });
    const ctl = sup.attach(call);
    ctl.answering();
    registry.bindConnection(call, 'conn-s');
    ctl.handleCallback({ callId: 'settling', id: 's-c', type: 'CallConnected', data: {}, time: null });
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 1);
    expect(control.ops).toEqual([]);
    // The owner re-asserted its lease: this replica lets go, nothing hung up.
    owner = 'w-other';
    settling = false;
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 1);
    expect(control.ops).toEqual([]);
    expect(registry.get('settling')).toBeUndefined();
  });

  it('resumes a call from its snapshot and arms the media-connect timer', async () => {
    const { sup, registry, timeouts } = setup();
    const snap = {
      callId: 'r1', phase: 'connected' as const, callConnectionId: 'conn-r1', correlationId: null, serverCallId: null,
      from: 'a', to: 'b', startedAt: Date.now(), ownerWorkerId: 'w-other', audioFormat: 'pcm16KMono' as const, nextSeq: 4,
    };
    const ctl = sup.resume(snap, silentLogger());
    expect(ctl?.call.phase).toBe('connected');
    expect(ctl?.call.nextSeq).toBe(4);
    expect(registry.byConnection('conn-r1')).toBe(ctl?.call);
    // A second resolve (reconnect) resumes the same call.
    expect(sup.resume(snap, silentLogger())).toBe(ctl);
    await vi.advanceTimersByTimeAsync(CFG.mediaConnectTimeoutMs + 1);
    expect(timeouts).toEqual(['media-connect']);
  });

  it('does not resume a call whose snapshot says it ended', () => {
    const { sup } = setup();
    const snap = { callId: 'e1', phase: 'ended' as const, callConnectionId: null, correlationId: null, serverCallId: null, from: 'a', to: 'b', startedAt: 0, ownerWorkerId: null, audioFormat: 'pcm16KMono' as const, nextSeq: 1 };
    expect(sup.resume(snap, silentLogger())).toBeNull();
  });
});
