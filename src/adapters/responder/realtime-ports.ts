// The realtime bridge's ports, settings and per-call records (realtime-bridge.ts).
import type { CallControl, Clock, ConversationStore, Synthesizer } from '../../domain/ports.js';
import type { ToolRegistry } from '../../domain/tools/tool-registry.js';
import type { RealtimeConnector } from './realtime-socket.js';

export interface RealtimeMetrics {
  bargeIn(source: 'local' | 'model'): void;
  /** Caller speech stopped (model VAD) → the model's first audio delta. */
  firstAudio(ms: number): void;
  reconnect(result: 'ok' | 'failed'): void;
  /** A response's first audio delta received → its first frame handed to the media socket (idle playout). */
  bridgeLatency(ms: number): void;
  usage(u: { audioInS: number; audioOutS: number; inputTokens: number; outputTokens: number }): void;
}

export interface RealtimeBridgeDeps {
  readonly connector: RealtimeConnector;
  readonly conversations: ConversationStore;
  /** Speaks the filler and goodbye lines (null: none; the call still ends politely). */
  readonly synthesizer: Synthesizer | null;
  readonly callControl: CallControl | null;
  readonly clock: Clock;
  readonly metrics: RealtimeMetrics;
  /** Function tools offered to the model (null: none). */
  readonly tools?: ToolRegistry | null;
}

export interface RealtimeBridgeConfig {
  readonly voice: string;
  readonly silenceMs: number;
  readonly reconnectMs: number;
  readonly systemPrompt: string | undefined;
  readonly connectTimeoutMs: number;
  readonly historyTokenBudget: number;
}


export interface AgentItem {
  readonly id: string;
  readonly responseId: string;
  readonly utteranceId: string;
  readonly seq: number;
  readonly at: number;
  readonly firstAt: number;
  text: string;
  /** Audio received from the model, ms. */
  audioMs: number;
  ended: boolean;
  cut: boolean;
  /** Hang up once it has been played (the goodbye line). */
  hangup: boolean;
}

/** What the bridge counted; copied into the archive job's counters at the end of the call. */
export interface RealtimeCounters {
  audioInMs: number;
  audioOutMs: number;
  inputTokens: number;
  outputTokens: number;
  reconnects: number;
  truncates: number;
}
