import { afterEach, describe, expect, it } from 'vitest';
import { wireEdge } from '../../src/wiring/edge-wiring.js';
import { createAcsVerifier } from '../../src/wiring/clients.js';
import { Lifecycle } from '../../src/server/lifecycle.js';
import { CallRegistry, LiveCall } from '../../src/domain/live-call.js';
import { keepAuthAlive } from '../../src/server/auth-keeper.js';
import type { CallbackEnvelope, EventRouter } from '../../src/domain/ports.js';
import { MemoryCallControl } from '../../src/adapters/memory/memory-call-control.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { createRegistry } from '../../src/metrics.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { systemClock } from '../../src/adapters/system-clock.js';

class RecordingRouter implements EventRouter {
  deliver: ((env: CallbackEnvelope) => void) | null = null;
  forwarded: CallbackEnvelope[] = [];
  async start(deliver: (env: CallbackEnvelope) => void) {
    this.deliver = deliver;
  }
  async forward(env: CallbackEnvelope) {
    this.forwarded.push(env);
    return 'forwarded' as const;
  }
  async takeHeld() {
    return [];
  }
  async stop() {}
}

function setup() {
  const config = loadConfig({ LOG_LEVEL: 'silent', APP_NAME: 'unit-edge' });
  const log = silentLogger();
  const lifecycle = new Lifecycle({ drainTimeoutMs: 100 }, log);
  const calls = new CallRegistry();
  const router = new RecordingRouter();
  const sessions = new MemorySessionStore({ clock: systemClock }, config.ttl);
  const edge = wireEdge({
    config,
    log,
    registry: createRegistry({ defaultMetrics: false }),
    lifecycle,
    calls,
    leases: { drop: async () => undefined },
    sessions,
    conversations: new MemoryConversationStore({ clock: systemClock }, { ttl: config.ttl, historyMaxTurns: 10 }),
    router,
    control: new MemoryCallControl(),
    verifier: createAcsVerifier(config),
    routes: [],
    now: () => Date.now(),
  });
  return { edge, calls, router, sessions, lifecycle };
}

const snap = (callId: string) => ({
  callId, phase: 'connected' as const, callConnectionId: `conn-${callId}`, correlationId: null, serverCallId: null,
  from: 'a', to: 'b', startedAt: Date.now(), ownerWorkerId: 'w-elsewhere', audioFormat: 'pcm16KMono' as const, nextSeq: 1,
});

describe('edge wiring', () => {
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
  });

  it('resolveCall resumes a call answered elsewhere from its snapshot, once', async () => {
    const { edge, calls, sessions, lifecycle } = setup();
    stop = () => lifecycle.shutdown('test');
    expect(await edge.resolveCall('nope')).toBeNull();
    await sessions.saveSession(snap('x1'));
    const a = await edge.resolveCall('x1');
    const [b, c] = await Promise.all([edge.resolveCall('x1'), edge.resolveCall('x1')]);
    expect(a?.phase).toBe('connected');
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(calls.byConnection('conn-x1')).toBe(a);
  });

  it('a CallDisconnected for a call answered here but streaming on another replica goes to that owner: not finalized (and archived empty) here', async () => {
    const { edge, router, calls, lifecycle } = setup();
    stop = () => lifecycle.shutdown('test');
    const call = new LiveCall({ callId: 'x3', from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log: silentLogger() });
    const ctl = edge.supervisor.attach(call);
    ctl.answering();
    ctl.handleCallback({ callId: 'x3', id: 'c1', type: 'CallConnected', data: {}, time: null });
    const bye: CallbackEnvelope = { callId: 'x3', id: 'd1', type: 'CallDisconnected', data: {}, time: null };
    expect(await edge.dispatch(bye)).toBe('forwarded');
    expect(router.forwarded).toEqual([bye]);
    // Let go here without being finalized (no archive job from this replica), nothing left behind.
    expect(calls.get('x3')).toBeUndefined();
    expect(edge.supervisor.get('x3')).toBeUndefined();
    // A call whose audio connected here is this replica's: its CallDisconnected is handled here.
    const own = new LiveCall({ callId: 'x4', from: 'a', to: 'b', correlationId: null, startedAt: Date.now(), log: silentLogger() });
    const mine = edge.supervisor.attach(own);
    mine.answering();
    mine.handleCallback({ callId: 'x4', id: 'c2', type: 'CallConnected', data: {}, time: null });
    own.events.emit('mediaConnected', { sampleRate: 16000, channels: 'mixed', reconnect: false });
    expect(await edge.dispatch({ ...bye, callId: 'x4', id: 'd2' })).toBe('dispatched');
    await edge.supervisor.settled();
    expect(mine.finalized).toBe(true);
    expect(ctl.finalized).toBe(true);
  });

  it('forwards events for calls that are not local and applies the ones the router delivers', async () => {
    const { edge, router, sessions, lifecycle } = setup();
    stop = () => lifecycle.shutdown('test');
    const env: CallbackEnvelope = { callId: 'x2', id: 'e1', type: 'MediaStreamingStarted', data: {}, time: null };
    expect(await edge.dispatch(env)).toBe('forwarded');
    expect(router.forwarded).toEqual([env]);
    await sessions.saveSession(snap('x2'));
    const call = await edge.resolveCall('x2');
    router.deliver?.(env);
    expect(call?.phase).toBe('streaming');
    expect(await edge.dispatch({ ...env, id: 'e2', type: 'CallDisconnected' })).toBe('dispatched');
    await edge.supervisor.settled();
    expect(call?.phase).toBe('ended');
    expect((await sessions.loadSession('x2'))?.phase).toBe('ended');
  });
});

describe('auth keeper', () => {
  it("keeps a live call's auth state past TTL_AUTH and lets ended calls expire", async () => {
    let now = 1_000_000;
    const clock = { now: () => now, monotonic: () => now };
    const config = loadConfig({ LOG_LEVEL: 'silent', TTL_AUTH: '60' });
    const sessions = new MemorySessionStore({ clock }, config.ttl);
    const calls = new CallRegistry();
    calls.add(new LiveCall({ callId: 'live', from: 'a', to: 'b', correlationId: null, startedAt: now, log: silentLogger() }));
    await sessions.putAuthState('live', { secret: 's1', callerVerified: true, failedAttempts: 0 });
    await sessions.putAuthState('gone', { secret: 's2', callerVerified: false, failedAttempts: 0 });
    const keeper = keepAuthAlive({ sessions, calls, log: silentLogger() }, { ttlSeconds: 60 });
    try {
      for (let i = 0; i < 5; i++) {
        now += 30_000;
        await keeper.refreshNow();
      }
      expect(await sessions.getAuthState('live')).toEqual({ secret: 's1', callerVerified: true, failedAttempts: 0 });
      expect(await sessions.getAuthState('gone')).toBeNull();
    } finally {
      keeper.stop();
    }
  });
});
