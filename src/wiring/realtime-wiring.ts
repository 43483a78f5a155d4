// RESPONDER=realtime: the model connector (one per replica; a socket per call), its metrics, and a
// RealtimeBridge per call in place of the cascaded turn pipeline (conversation-wiring.ts calls
// attach). The bridge's counters go into the archive job (and so the call summary) at the end.
import type { Config } from '../config.js';
import type { LiveCall } from '../domain/live-call.js';
import type { CallControl, Clock, ConversationStore, SessionStore, Synthesizer } from '../domain/ports.js';
import { ToolRegistry } from '../domain/tools/tool-registry.js';
import { builtinTools } from '../domain/tools/builtin-tools.js';
import { trackCallForArchive } from '../domain/archive/job-builder.js';
import { counter, histogram, type Registry } from '../metrics.js';
import { RealtimeBridge, type RealtimeMetrics } from '../adapters/responder/realtime-bridge.js';
import type { VoiceLiveClient } from '@azure/ai-voicelive';
import { createVoiceLiveConnector } from '../adapters/responder/realtime-voicelive.js';
import { createRealtimeConnector, type RealtimeConnector } from '../adapters/responder/realtime-socket.js';

export interface RealtimeWiringDeps {
  readonly conversations: ConversationStore;
  /** Authentication state for verify_pin / lookup_caller (null: no tools offered). */
  readonly sessions: Pick<SessionStore, 'getAuthState' | 'putAuthState'> | null;
  readonly synthesizer: Synthesizer | null;
  readonly registry: Registry;
  readonly clock: Clock;
  /** Entra ID token for Azure OpenAI / Voice Live when no key is configured (clients.ts). */
  readonly token: (() => Promise<string>) | null;
  /** REALTIME_PROVIDER=voicelive: the Voice Live SDK client (clients.ts); its connector replaces raw ws. */
  readonly voiceLive?: VoiceLiveClient | null;
  /** Tests: another connector. */
  readonly connector?: RealtimeConnector;
}

export interface RealtimeWiring {
  attach(call: LiveCall, opts: { callControl: CallControl | null }): RealtimeBridge;
}

/** A tool call longer than this answers the model with an error. */
const TOOL_TIMEOUT_MS = 3000;

function realtimeMetrics(registry: Registry): RealtimeMetrics {
  const barge = counter(registry, 'voice_realtime_barge_ins_total', 'Barge-ins on realtime calls, by the detector that confirmed them', ['source']);
  const first = histogram(registry, 'voice_realtime_first_audio_seconds', "Caller speech stopped (model VAD) to the model's first audio delta");
  const bridge = histogram(registry, 'voice_realtime_bridge_seconds', "A response's first audio delta received to its first frame handed to the media socket", [], [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]);
  const reconnects = counter(registry, 'voice_realtime_reconnects_total', 'Realtime model sockets re-opened after a drop, by result', ['result']);
  const audio = counter(registry, 'voice_realtime_audio_seconds_total', 'Audio seconds exchanged with the realtime model', ['direction']);
  const tokens = counter(registry, 'voice_realtime_tokens_total', 'Tokens reported by the realtime model (response.done usage)', ['direction']);
  return {
    bargeIn: (source) => barge.inc({ source }),
    firstAudio: (ms) => first.observe(ms / 1000),
    reconnect: (result) => reconnects.inc({ result }),
    bridgeLatency: (ms) => bridge.observe(ms / 1000),
    usage: (u) => {
      audio.inc({ direction: 'in' }, u.audioInS);
      audio.inc({ direction: 'out' }, u.audioOutS);
      tokens.inc({ direction: 'in' }, u.inputTokens);
      tokens.inc({ direction: 'out' }, u.outputTokens);
    },
  };
}

/** REALTIME_PROVIDER=voicelive with its SDK client: the SDK connector; openai / azure-openai: raw ws. */
export function realtimeConnectorFor(rt: Config['realtime'], deps: Pick<RealtimeWiringDeps, 'token' | 'voiceLive'>): RealtimeConnector {
  return rt.provider === 'voicelive' && deps.voiceLive ? createVoiceLiveConnector(deps.voiceLive, rt) : createRealtimeConnector(rt, deps.token);
}

export function wireRealtime(deps: RealtimeWiringDeps, config: Config): RealtimeWiring {
  const connector = deps.connector ?? realtimeConnectorFor(config.realtime, deps);
  const metrics = realtimeMetrics(deps.registry);
  const rt = config.realtime;
  // The live bridges, for the tools' actions (end_call, transfer_to_agent) on their call.
  const bridges = new Map<string, RealtimeBridge>();
  const tools = deps.sessions ? new ToolRegistry(builtinTools({ sessions: deps.sessions, act: (callId, action) => bridges.get(callId)?.act(action) }), TOOL_TIMEOUT_MS) : null;
  return {
    attach(call, opts) {
      const bridge = new RealtimeBridge(
        call,
        { connector, conversations: deps.conversations, synthesizer: deps.synthesizer, callControl: opts.callControl, clock: deps.clock, metrics, tools },
        { voice: rt.voice, silenceMs: rt.silenceMs, reconnectMs: rt.reconnectMs, systemPrompt: config.responder.systemPrompt, connectTimeoutMs: Math.min(10_000, Math.max(1000, rt.reconnectMs)), historyTokenBudget: 3000 },
      );
      // Before the archive step reads them ('ended' listeners run before the finalize hooks).
      const markers = trackCallForArchive(call);
      bridges.set(call.callId, bridge);
      call.events.on('released', () => bridges.delete(call.callId));
      call.events.on('ended', () => {
        bridges.delete(call.callId);
        const c = bridge.counters;
        Object.assign(markers.counters, {
          realtimeAudioInMs: Math.round(c.audioInMs),
          realtimeAudioOutMs: Math.round(c.audioOutMs),
          realtimeInputTokens: c.inputTokens,
          realtimeOutputTokens: c.outputTokens,
          realtimeReconnects: c.reconnects,
          realtimeTruncates: c.truncates,
        });
      });
      return bridge.start();
    },
  };
}
