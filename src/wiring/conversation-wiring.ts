// Wires the conversation loop: responder (local / openai), synthesizer (local flite / azure, cached;
// none for acs, where ACS speaks with playText), the per-replica responder gate, metrics, and a
// TurnPipeline per call. The composition root calls createConversationClients (clients.ts) + wireConversation;
// whoever creates or resumes a LiveCall calls attach(call).
import type { VoiceLiveClient } from '@azure/ai-voicelive';
import type { Config } from '../config.js';
import type { DomainLogger, LiveCall } from '../domain/live-call.js';
import type { CallControl, Clock, ConversationStore, Responder, SessionStore, Synthesizer, TtsCache } from '../domain/ports.js';
import { ConfigError } from '../domain/errors.js';
import { TurnPipeline } from '../domain/turn/turn-pipeline.js';
import type { TurnMetrics } from '../domain/turn/turn-ports.js';
import { counter, gauge, histogram, type Registry } from '../metrics.js';
import { LINES, LocalResponder } from '../adapters/responder/local-responder.js';
import { SentenceChunker } from '../domain/turn/sentence-chunker.js';
import { FAILURE_GOODBYE_LINE, FALLBACK_LINE, FILLER_LINE } from '../domain/turn/turn-policy.js';
import { OpenAIResponder, type OpenAIClientHandle } from '../adapters/responder/openai-responder.js';
import { PendingToolActions, TOOL_TIMEOUT_MS } from '../adapters/responder/openai-tools.js';
import { ToolRegistry } from '../domain/tools/tool-registry.js';
import { builtinTools } from '../domain/tools/builtin-tools.js';
import { PQueueGate } from '../adapters/responder/p-queue-gate.js';
import { FliteSynthesizer, isFliteVoice } from '../adapters/tts/flite-synthesizer.js';
import { AzureSpeechSynthesizer, azureSpeechEndpoint, isCustomDomainEndpoint } from '../adapters/tts/azure-speech-synthesizer.js';
import { CachedSynthesizer, type TtsCacheCounters } from '../adapters/tts/cached-synthesizer.js';
import type { RealtimeBridge } from '../adapters/responder/realtime-bridge.js';
import { wireRealtime } from './realtime-wiring.js';

export const DEFAULT_AZURE_VOICE = 'en-US-JennyNeural';
const HISTORY_TOKEN_BUDGET = 3000;

/** SDK clients the conversation loop needs; created once in clients.ts (createConversationClients). */
export interface ConversationClients {
  readonly openai: OpenAIClientHandle | null;
  /** Entra ID token for Azure Speech when no AZURE_SPEECH_KEY is set. */
  readonly speechToken: (() => Promise<string>) | null;
  /** Entra ID token for Azure OpenAI realtime / Voice Live when no REALTIME_API_KEY is set. */
  readonly realtimeToken?: (() => Promise<string>) | null;
  /** REALTIME_PROVIDER=voicelive: the Voice Live SDK client. */
  readonly voiceLive?: VoiceLiveClient | null;
}

export interface ConversationDeps {
  readonly conversations: ConversationStore;
  readonly sessions: SessionStore;
  readonly ttsCache: TtsCache;
  readonly registry: Registry;
  readonly log: DomainLogger;
  readonly clock: Clock;
  readonly clients: ConversationClients;
  /** Per-call turn metrics (tracing wraps the shared ones). */
  readonly callMetrics?: (call: LiveCall, shared: TurnMetrics) => TurnMetrics;
  /** Overrides for tests and the demo. */
  readonly responder?: Responder;
  readonly synthesizer?: Synthesizer | null;
}

export interface ConversationWiring {
  readonly responder: Responder;
  /** The cached synthesizer, or null when ACS plays the text (TTS=acs). */
  readonly synthesizer: CachedSynthesizer | null;
  readonly gate: PQueueGate;
  /** Starts the conversation loop of a call. The pipeline stops itself on `ended`. */
  attach(call: LiveCall, opts: { callControl: CallControl | null }): TurnPipeline | RealtimeBridge;
  /** Observes every pipeline attach() starts (reports read its turn timings). */
  onPipeline(hook: (call: LiveCall, pipeline: TurnPipeline | RealtimeBridge) => void): void;
  /**
   * Compiles the local synthesizer and fills the TTS cache with the fixed lines (filler, fallback,
   * the local agent's answers), sentence by sentence as the pipeline asks for them.
   */
  warmUp(signal: AbortSignal): Promise<void>;
  /** Waits for responder calls in flight (drain). */
  drain(): Promise<void>;
}

function turnMetrics(registry: Registry): TurnMetrics & { cache: TtsCacheCounters } {
  const turn = histogram(registry, 'voice_turn_latency_seconds', 'Caller input (final transcript or DTMF #) to the first reply audio handed to the media outlet');
  const responder = histogram(registry, 'voice_responder_first_chunk_seconds', 'Responder start to its first text chunk');
  const tts = histogram(registry, 'voice_tts_synthesis_seconds', 'Synthesis time per sentence, cache hits included');
  const fillers = counter(registry, 'voice_responder_saturated_total', 'Turns that found every responder slot busy (the caller heard a filler line)');
  const fallbacks = counter(registry, 'voice_turn_fallbacks_total', 'Turns answered with the fallback line', ['reason']);
  const superseded = counter(registry, 'voice_turn_superseded_total', 'Turns cut short by newer caller input');
  const hangups = counter(registry, 'voice_turn_failure_hangups_total', 'Calls ended by the agent after consecutive responder failures');
  const hits = counter(registry, 'voice_tts_cache_hits_total', 'TTS cache hits');
  const misses = counter(registry, 'voice_tts_cache_misses_total', 'TTS cache misses (synthesized)');
  const errors = counter(registry, 'voice_tts_cache_errors_total', 'TTS cache read/write failures');
  return {
    turnLatency: (ms) => turn.observe(ms / 1000),
    responderLatency: (ms) => responder.observe(ms / 1000),
    ttsLatency: (ms) => tts.observe(ms / 1000),
    filler: () => fillers.inc(),
    fallback: (reason) => fallbacks.inc({ reason }),
    superseded: () => superseded.inc(),
    failureHangup: () => hangups.inc(),
    cache: { hit: () => hits.inc(), miss: () => misses.inc(), error: () => errors.inc() },
  };
}

function buildResponder(deps: ConversationDeps, config: Config): Responder {
  if (deps.responder) return deps.responder;
  // RESPONDER=realtime: calls run on a RealtimeBridge; the local responder stays the (unused) responder of record.
  if (config.responder.kind === 'local' || config.responder.kind === 'realtime') return new LocalResponder({ sessions: deps.sessions });
  const handle = deps.clients.openai;
  if (!handle) throw new ConfigError(['RESPONDER: openai selected but no client was created']);
  // The same tool registry as realtime calls; actions wait for the responder to yield them.
  const actions = new PendingToolActions();
  const registry = new ToolRegistry(builtinTools({ sessions: deps.sessions, act: (callId, action) => actions.set(callId, action) }), TOOL_TIMEOUT_MS);
  return new OpenAIResponder(
    { client: handle.client, tools: { registry, actions } },
    { model: handle.model, systemPrompt: config.responder.systemPrompt, timeoutMs: config.responder.timeoutMs, historyTokenBudget: HISTORY_TOKEN_BUDGET },
  );
}

function buildSynthesizer(deps: ConversationDeps, config: Config): Synthesizer | null {
  if (deps.synthesizer !== undefined) return deps.synthesizer;
  const voice = config.tts.voice;
  switch (config.tts.kind) {
    case 'acs':
      return null;
    case 'azure': {
      const endpoint = azureSpeechEndpoint(config.tts.azureRegion, config.tts.azureEndpoint);
      const entra = config.tts.azureResourceId
        ? { resourceId: config.tts.azureResourceId }
        : isCustomDomainEndpoint(endpoint)
          ? ({ customDomain: true } as const)
          : undefined;
      return new AzureSpeechSynthesizer({
        endpoint,
        ...(entra ? { entra } : {}),
        voice: voice ?? DEFAULT_AZURE_VOICE,
        ...(config.tts.azureKey ? { key: config.tts.azureKey } : {}),
        ...(deps.clients.speechToken ? { token: deps.clients.speechToken } : {}),
        timeoutMs: config.responder.timeoutMs,
      });
    }
    default: {
      const v = voice ?? 'slt';
      if (!isFliteVoice(v)) throw new ConfigError([`TTS_VOICE: '${v}' is not a local voice (slt, rms, awb, kal, kal16)`]);
      return new FliteSynthesizer({ voice: v });
    }
  }
}

export function wireConversation(deps: ConversationDeps, config: Config): ConversationWiring {
  const metrics = turnMetrics(deps.registry);
  const responder = buildResponder(deps, config);
  const inner = buildSynthesizer(deps, config);
  const synthesizer = inner ? new CachedSynthesizer({ inner, cache: deps.ttsCache, counters: metrics.cache }, deps.log.child({ component: 'tts' })) : null;
  const gate = new PQueueGate(config.responder.concurrency);
  const pipelineHooks: ((call: LiveCall, pipeline: TurnPipeline | RealtimeBridge) => void)[] = [];
  const realtime =
    config.responder.kind === 'realtime'
      ? wireRealtime({ conversations: deps.conversations, sessions: deps.sessions, synthesizer, registry: deps.registry, clock: deps.clock, token: deps.clients.realtimeToken ?? null, voiceLive: deps.clients.voiceLive ?? null }, config)
      : null;
  gauge(deps.registry, 'voice_responder_in_flight', 'Responder calls running on this replica', [], function () {
    this.set(gate.load.running);
  });
  gauge(deps.registry, 'voice_tts_cache_hit_ratio', 'TTS cache hits / lookups since start', [], function () {
    this.set(synthesizer?.hitRatio ?? 0);
  });
  return {
    responder,
    synthesizer,
    gate,
    attach(call, opts) {
      if (realtime) {
        const bridge = realtime.attach(call, opts);
        for (const hook of pipelineHooks) hook(call, bridge);
        return bridge;
      }
      const pipeline = new TurnPipeline(
        call,
        {
          conversations: deps.conversations,
          responder,
          synthesizer,
          callControl: opts.callControl,
          gate,
          clock: deps.clock,
          metrics: deps.callMetrics ? deps.callMetrics(call, metrics) : metrics,
        },
        { responderTimeoutMs: config.responder.timeoutMs, ...(config.tts.kind === 'acs' && config.tts.voice ? { voiceName: config.tts.voice } : {}) },
      ).start();
      for (const hook of pipelineHooks) hook(call, pipeline);
      return pipeline;
    },
    onPipeline: (hook) => void pipelineHooks.push(hook),
    async warmUp(signal) {
      if (!synthesizer || config.tts.kind !== 'local') return;
      if (inner instanceof FliteSynthesizer) await inner.warmUp();
      const lines = [FILLER_LINE, FALLBACK_LINE, FAILURE_GOODBYE_LINE, 'Hello, thanks for calling.', 'How can I help you today?'];
      if (responder instanceof LocalResponder) lines.push(...Object.values(LINES));
      for (const line of lines) {
        const chunker = new SentenceChunker();
        for (const sentence of [...chunker.push(line), chunker.flush()]) {
          if (signal.aborted) return;
          if (!sentence) continue;
          try {
            await synthesizer.synthesize(sentence, config.media.sampleRate, signal);
          } catch (err) {
            if (signal.aborted) return;
            throw err;
          }
        }
      }
    },
    drain: () => gate.onIdle(),
  };
}
