// A call with the real conversation loop (wireConversation) on memory stores, a fake media outlet
// and the recording call control. Used by the convo-* tests.
import { randomUUID } from 'node:crypto';
import { vi } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createRegistry, type Registry } from '../../src/metrics.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { LiveCall } from '../../src/domain/live-call.js';
import type { Turn } from '../../src/domain/conversation.js';
import type { ConversationStore, Responder, SessionStore, Synthesizer, TtsCache } from '../../src/domain/ports.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { MemorySessionStore, MemoryTtsCache } from '../../src/adapters/memory/memory-session-store.js';
import { MemoryCallControl } from '../../src/adapters/memory/memory-call-control.js';
import { FliteSynthesizer } from '../../src/adapters/tts/flite-synthesizer.js';
import { wireConversation, type ConversationWiring } from '../../src/wiring/conversation-wiring.js';
import { FakeMediaOutlet } from './fake-media-outlet.js';
import type { OpenAIClientHandle } from '../../src/adapters/responder/openai-responder.js';

/** Counts calls to a real synthesizer. */
export class SpySynthesizer implements Synthesizer {
  readonly id: string;
  readonly calls: string[] = [];
  constructor(private readonly inner: Synthesizer) {
    this.id = inner.id;
  }
  synthesize(text: string, sampleRate: number, signal: AbortSignal): Promise<Int16Array> {
    this.calls.push(text);
    return this.inner.synthesize(text, sampleRate, signal);
  }
}

const flite = new FliteSynthesizer({ voice: 'slt' });

export interface Harness {
  readonly config: Config;
  readonly registry: Registry;
  readonly conversations: ConversationStore;
  readonly sessions: SessionStore;
  readonly ttsCache: TtsCache;
  readonly spy: SpySynthesizer;
  readonly control: MemoryCallControl;
  readonly wiring: ConversationWiring;
  newCall(opts?: { sampleRate?: 16000 | 24000; autoComplete?: boolean; media?: boolean }): { call: LiveCall; outlet: FakeMediaOutlet };
  history(callId: string): Promise<readonly Turn[]>;
  /** Waits until the call's history holds at least n turns. */
  untilTurns(callId: string, n: number, timeoutMs?: number): Promise<readonly Turn[]>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export function harness(
  env: Record<string, string> = {},
  opts: { responder?: Responder; /** RESPONDER=openai through the wiring (tools included). */ openai?: OpenAIClientHandle; /** 'configured': the synthesizer the config selects. */ synthesizer?: Synthesizer | null | 'configured'; stores?: { conversations: ConversationStore; sessions: SessionStore; ttsCache: TtsCache } } = {},
): Harness {
  const config = loadConfig({ APP_NAME: `test-${randomUUID().slice(0, 12)}`, LOG_LEVEL: 'silent', ...env });
  const log = createLogger({ level: 'silent' });
  const registry = createRegistry({ defaultMetrics: false });
  const clock = systemClock;
  const conversations = opts.stores?.conversations ?? new MemoryConversationStore({ clock }, { ttl: config.ttl, historyMaxTurns: config.state.historyMaxTurns });
  const sessions = opts.stores?.sessions ?? new MemorySessionStore({ clock }, config.ttl);
  const ttsCache = opts.stores?.ttsCache ?? new MemoryTtsCache({ clock }, config.ttl.tts);
  const spy = new SpySynthesizer(flite);
  const control = new MemoryCallControl();
  const wiring = wireConversation(
    {
      conversations,
      sessions,
      ttsCache,
      registry,
      log,
      clock,
      clients: { openai: opts.openai ?? null, speechToken: null },
      ...(opts.synthesizer === 'configured' ? {} : { synthesizer: opts.synthesizer === undefined ? spy : opts.synthesizer }),
      ...(opts.responder ? { responder: opts.responder } : {}),
    },
    config,
  );
  let n = 0;
  const h: Harness = {
    config,
    registry,
    conversations,
    sessions,
    ttsCache,
    spy,
    control,
    wiring,
    newCall(o = {}) {
      const call = new LiveCall({ callId: randomUUID(), from: 'caller', to: 'agent', correlationId: null, startedAt: Date.now(), log });
      call.callConnectionId = `conn-${++n}`;
      const outlet = new FakeMediaOutlet(call, o.sampleRate ?? 16000, { autoComplete: o.autoComplete ?? true });
      if (o.media !== false) call.media = outlet;
      wiring.attach(call, { callControl: control });
      return { call, outlet };
    },
    async history(callId) {
      return (await conversations.getState(callId)).history;
    },
    async untilTurns(callId, count, timeoutMs = 8000) {
      return vi.waitFor(
        async () => {
          const hist = await h.history(callId);
          if (hist.length < count) throw new Error(`history has ${hist.length} of ${count} turns`);
          return hist;
        },
        { timeout: timeoutMs, interval: 10 },
      );
    },
    async metric(name, labels = {}) {
      const m = await registry.getSingleMetric(name)?.get();
      const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
      return v?.value ?? 0;
    },
  };
  return h;
}

export function say(call: LiveCall, text: string, confidence = 0.9): void {
  call.events.emit('transcript', { text, final: true, confidence, participant: null, at: Date.now() });
}

export function keypad(call: LiveCall, tones: string): void {
  for (const tone of tones) call.events.emit('dtmf', { tone, at: Date.now() });
}
