// The realtime bridge (realtime-bridge.ts) with the in-process adapters (memory conversation store,
// memory call control), a recording media outlet and a scripted connector (the bridge's port; the
// socket itself is exercised end to end in e2e-realtime*.test.ts). Covers what the e2e runs do not:
// a 16 kHz call (frames upsampled, deltas resampled), a drop in the middle of a response, and the
// failure path when no session can be opened at all.
import { describe, expect, it } from 'vitest';
import { LiveCall } from '../../src/domain/live-call.js';
import type { MediaOutlet } from '../../src/domain/call-events.js';
import { silentLogger } from '../../src/logger.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { MemoryCallControl } from '../../src/adapters/memory/memory-call-control.js';
import { RealtimeBridge, type RealtimeMetrics } from '../../src/adapters/responder/realtime-bridge.js';
import type { RealtimeConnector, RealtimeHandlers } from '../../src/adapters/responder/realtime-socket.js';
import { decodeServerEvent } from '../../src/adapters/responder/realtime-codec.js';
import { FAILURE_GOODBYE_LINE, FILLER_LINE } from '../../src/domain/turn/turn-policy.js';
import { ToolRegistry } from '../../src/domain/tools/tool-registry.js';
import { builtinTools } from '../../src/domain/tools/builtin-tools.js';
import { CallTransfer } from '../../src/domain/call-transfer.js';
import { parseTransferTarget } from '../../src/domain/transfer-target.js';

const NO_METRICS: RealtimeMetrics = { bargeIn: () => undefined, firstAudio: () => undefined, reconnect: () => undefined, usage: () => undefined, bridgeLatency: () => undefined };
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** Records what the bridge queues; playoutDone when an utterance ends (instant playout). */
class Outlet implements MediaOutlet {
  readonly spoken = new Map<string, number>();
  readonly ended: string[] = [];
  speaking = false;
  constructor(
    readonly sampleRate: number,
    private readonly call: LiveCall,
  ) {}
  speak(id: string, pcm: Int16Array): void {
    this.spoken.set(id, (this.spoken.get(id) ?? 0) + pcm.length);
    this.speaking = true;
  }
  endUtterance(id: string): void {
    this.ended.push(id);
    this.speaking = false;
    const ms = ((this.spoken.get(id) ?? 0) * 1000) / this.sampleRate;
    this.call.events.emit('playoutDone', { utteranceId: id, playedMs: ms, totalMs: ms, interrupted: false });
  }
  stop(): { utteranceId: string | null; playedMs: number } {
    return { utteranceId: null, playedMs: 0 };
  }
}

/** A connector whose sessions the test drives: sent events are kept, server events injected. */
function scripted(opts: { fail?: boolean } = {}) {
  const sessions: { sent: string[]; h: RealtimeHandlers; open: boolean }[] = [];
  const connector: RealtimeConnector = {
    shape: 'ga',
    voiceObject: false,
    transcriptionModel: 'whisper-1',
    async connect(h) {
      if (opts.fail || (sessions.length > 0 && sessions.every((s) => !s.open) && connectorState.refuse)) throw new Error('refused');
      const s = { sent: [] as string[], h, open: true };
      sessions.push(s);
      return {
        get open() {
          return s.open;
        },
        send: (t) => void s.sent.push(t),
        close: () => void (s.open = false),
      };
    },
  };
  const connectorState = { refuse: false };
  const server = (s: (typeof sessions)[number], ev: Record<string, unknown>) => s.h.onEvent(decodeServerEvent(JSON.stringify(ev)), performance.now());
  const drop = (s: (typeof sessions)[number]) => {
    s.open = false;
    s.h.onClose(1006, '');
  };
  return { connector, sessions, server, drop, connectorState };
}

function rig(rate: 16000 | 24000, c: ReturnType<typeof scripted>, reconnectMs = 300, tools: ToolRegistry | null = null) {
  const call = new LiveCall({ callId: 'rt1', from: 'a', to: 'b', correlationId: null, startedAt: 0, log: silentLogger() });
  call.callConnectionId = 'conn-1';
  const outlet = new Outlet(rate, call);
  call.media = outlet;
  const conversations = new MemoryConversationStore({ clock: systemClock }, { ttl: { context: 1800, history: 7200 }, historyMaxTurns: 100 });
  const control = new MemoryCallControl();
  const synth = { id: 'fake', synthesize: async (_t: string, r: number) => new Int16Array(r / 10) };
  const bridge = new RealtimeBridge(call, { connector: c.connector, conversations, synthesizer: synth, callControl: control, clock: systemClock, metrics: NO_METRICS, tools }, { voice: 'alloy', silenceMs: 300, reconnectMs, systemPrompt: undefined, connectTimeoutMs: 100, historyTokenBudget: 1000 }).start();
  return { call, outlet, conversations, control, bridge };
}

const b64 = (n: number) => Buffer.from(new Int16Array(n).buffer).toString('base64');

describe('realtime bridge', () => {
  it('16 kHz call: 320-sample frames go out as 480-sample appends; 24 kHz deltas reach the call at 16 kHz', async () => {
    const c = scripted();
    const r = rig(16000, c);
    await tick();
    const s = c.sessions[0]!;
    r.call.inputTap?.(new Int16Array(320).fill(100));
    const append = JSON.parse(s.sent.at(-1)!) as { type: string; audio: string };
    expect(append.type).toBe('input_audio_buffer.append');
    expect(Buffer.from(append.audio, 'base64').length).toBe(960);
    c.server(s, { type: 'response.created', response: { id: 'r1' } });
    c.server(s, { type: 'response.output_audio.delta', response_id: 'r1', item_id: 'a1', delta: b64(2400) });
    c.server(s, { type: 'response.output_audio_transcript.delta', item_id: 'a1', delta: 'Hello there.' });
    c.server(s, { type: 'response.done', response: { id: 'r1', status: 'completed' } });
    await tick(50);
    const utt = [...r.outlet.spoken.keys()][0]!;
    expect(r.outlet.spoken.get(utt)).toBe(1600);
    expect(r.outlet.ended).toContain(utt);
    const turns = (await r.conversations.getState('rt1')).history;
    expect(turns).toMatchObject([{ seq: 1, speaker: 'assistant', text: 'Hello there.', playedMs: 100 }]);
    r.bridge.stop();
  });

  it('a drop mid-response ends what the lost session sent (playout never waits on it), says the filler, re-opens with history', async () => {
    const c = scripted();
    const r = rig(24000, c);
    await tick();
    const s = c.sessions[0]!;
    c.server(s, { type: 'input_audio_buffer.committed', item_id: 'u1' });
    c.server(s, { type: 'conversation.item.input_audio_transcription.completed', item_id: 'u1', transcript: 'What are your hours?' });
    c.server(s, { type: 'response.created', response: { id: 'r1' } });
    c.server(s, { type: 'response.output_audio.delta', response_id: 'r1', item_id: 'a1', delta: b64(4800) });
    c.drop(s); // no response.done will come
    const utt = [...r.outlet.spoken.keys()][0]!;
    expect(r.outlet.ended).toContain(utt);
    await tick(50);
    expect(c.sessions).toHaveLength(2);
    const primed = c.sessions[1]!.sent.filter((t) => t.includes('conversation.item.create'));
    expect(primed.some((t) => t.includes('What are your hours?'))).toBe(true);
    const texts = (await r.conversations.getState('rt1')).history.map((t) => t.text);
    expect(texts).toContain(FILLER_LINE);
    r.bridge.stop();
  });

  it('barge-in: response.cancel while it runs, truncate at the played ms (never beyond the audio received)', async () => {
    const c = scripted();
    const r = rig(24000, c);
    await tick();
    const s = c.sessions[0]!;
    c.server(s, { type: 'response.created', response: { id: 'r1' } });
    c.server(s, { type: 'response.output_audio.delta', response_id: 'r1', item_id: 'a1', delta: b64(24000) }); // 1000 ms
    const utt = [...r.outlet.spoken.keys()][0]!;
    r.call.events.emit('bargeIn', { at: 0, utteranceId: utt, playedMs: 420, cause: 'vad' });
    const sent = s.sent.map((t) => JSON.parse(t) as { type: string; audio_end_ms?: number; item_id?: string });
    expect(sent.map((e) => e.type).slice(-2)).toEqual(['response.cancel', 'conversation.item.truncate']);
    expect(sent.at(-1)).toMatchObject({ item_id: 'a1', audio_end_ms: 420 });
    // Late deltas of the cancelled response are not played.
    c.server(s, { type: 'response.output_audio.delta', response_id: 'r1', item_id: 'a1', delta: b64(4800) });
    expect(r.outlet.spoken.get(utt)).toBe(24000);
    r.bridge.stop();
  });

  it('no session can be opened within the bound: goodbye line, then hang-up as responder-failed', async () => {
    const c = scripted({ fail: true });
    const r = rig(24000, c, 200);
    await tick(500);
    const texts = (await r.conversations.getState('rt1')).history.map((t) => t.text);
    expect(texts).toContain(FAILURE_GOODBYE_LINE);
    expect(r.control.ops).toContainEqual({ op: 'hangUp', callConnectionId: 'conn-1', operationContext: 'responder-failed' });
    expect(r.bridge.state).toBe('failed');
    r.bridge.stop();
  });

  it('function call: the tool runs, its result goes back as function_call_output, the model goes on; end_call hangs up after the reply', async () => {
    const c = scripted();
    let bridge: RealtimeBridge | null = null;
    const tools = new ToolRegistry(builtinTools({ sessions: { getAuthState: async () => null, putAuthState: async () => undefined }, act: (_id, a) => bridge?.act(a) }), 1000);
    const r = rig(24000, c, 300, tools);
    bridge = r.bridge;
    await tick();
    const s = c.sessions[0]!;
    expect(JSON.parse(s.sent[0]!).session.tools.map((t: { name: string }) => t.name)).toEqual(['lookup_caller', 'verify_pin', 'transfer_to_agent', 'end_call']);
    c.server(s, { type: 'response.function_call_arguments.done', response_id: 'r1', item_id: 'f1', call_id: 'call_9', name: 'end_call', arguments: '{}' });
    await tick(20);
    const sent = s.sent.slice(-2).map((t) => JSON.parse(t) as { type: string; item?: { type: string; call_id: string } });
    expect(sent[0]).toMatchObject({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_9' } });
    expect(sent[1]!.type).toBe('response.create');
    expect((await r.conversations.getState('rt1')).history).toMatchObject([{ speaker: 'tool', text: expect.stringContaining('end_call({})') }]);
    expect(r.control.ops).toHaveLength(0);
    c.server(s, { type: 'response.output_audio.delta', response_id: 'r2', item_id: 'a2', delta: b64(2400) });
    c.server(s, { type: 'response.done', response: { id: 'r2', status: 'completed' } });
    await tick(20);
    expect(r.control.ops).toContainEqual({ op: 'hangUp', callConnectionId: 'conn-1', operationContext: 'agent-hangup' });
    r.bridge.stop();
  });

  it('transfer_to_agent: once the model\'s announcing reply has played, CallTransfers requests the configured target (never a target the model names)', async () => {
    const c = scripted();
    let bridge: RealtimeBridge | null = null;
    const tools = new ToolRegistry(builtinTools({ sessions: { getAuthState: async () => null, putAuthState: async () => undefined }, act: (_id, a) => bridge?.act(a) }), 1000);
    const r = rig(24000, c, 300, tools);
    bridge = r.bridge;
    const target = parseTransferTarget('+14255550123');
    const transfer = new CallTransfer(r.call, { control: r.control, metrics: { transfer: () => undefined } }, { target, announceTimeoutMs: 1000, callbackTimeoutMs: 1000 }, null).start();
    await tick();
    const s = c.sessions[0]!;
    c.server(s, { type: 'response.function_call_arguments.done', response_id: 'r1', item_id: 'f1', call_id: 'call_7', name: 'transfer_to_agent', arguments: '{"reason":"+19998887777"}' });
    await tick(20);
    expect(r.control.ops.filter((o) => o.op === 'transfer')).toHaveLength(0);
    c.server(s, { type: 'response.output_audio.delta', response_id: 'r2', item_id: 'a2', delta: b64(2400) });
    c.server(s, { type: 'response.done', response: { id: 'r2', status: 'completed' } });
    await tick(30);
    expect(r.control.ops.filter((o) => o.op === 'transfer')).toMatchObject([{ op: 'transfer', callConnectionId: 'conn-1', target }]);
    transfer.stop();
    r.bridge.stop();
  });
});
