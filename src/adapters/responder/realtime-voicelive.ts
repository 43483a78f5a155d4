// REALTIME_PROVIDER=voicelive over the Azure AI Voice Live SDK (@azure/ai-voicelive, pinned
// 1.0.0-beta.4: the last release whose engines accept Node 20). The SDK opens
// `<endpoint>/voice-live/realtime?api-version=…&model=…` itself (ws:// for an http:// endpoint) and
// authenticates with a KeyCredential (`api-key`) or a TokenCredential (`Authorization: Bearer`, scope
// https://ai.azure.com/.default; managed identity through DefaultAzureCredential) — "How to use the
// Voice Live API", "Voice Live API reference". The client is built in wiring/clients.ts.
//
// The SDK's surface is typed camelCase models (its serializers rename fields, e.g. audio_end_ms ↔
// audioEndInMs, and decode audio deltas to bytes), so this adapter maps the bridge's wire events (the
// codec's JSON text) to the SDK's client events and the SDK's server events to the codec's ServerEvent.
import { performance } from 'node:perf_hooks';
import type { ClientEventUnion, RequestSession, ServerEventUnion, VoiceLiveClient, VoiceLiveSession } from '@azure/ai-voicelive';
import type { RealtimeConfig } from '../../config-realtime.js';
import type { ServerEvent } from './realtime-codec.js';
import type { RealtimeConnector, RealtimeHandlers, RealtimeLink } from './realtime-socket.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * The SDK client's endpoint for a REALTIME_URL: its origin (the SDK sets the path /voice-live/realtime
 * and the query itself) and the URL's api-version, if any (else the SDK's default, 2025-10-01).
 */
export function voiceLiveEndpoint(url: string): { endpoint: string; apiVersion: string | undefined } {
  const u = new URL(url);
  return { endpoint: `${u.protocol === 'ws:' ? 'http:' : 'https:'}//${u.host}`, apiVersion: u.searchParams.get('api-version') ?? undefined };
}

const APPEND_HEAD = '{"type":"input_audio_buffer.append","audio":"';

function sessionOf(s: Json): RequestSession {
  const td = obj(s.turn_detection);
  const voice = s.voice;
  const v = obj(voice);
  const transcription = obj(s.input_audio_transcription);
  return {
    instructions: str(s.instructions),
    modalities: Array.isArray(s.modalities) ? (s.modalities as RequestSession['modalities']) : undefined,
    voice: typeof voice === 'string' ? voice : ({ type: str(v.type), name: str(v.name) } as RequestSession['voice']),
    inputAudioFormat: str(s.input_audio_format) || undefined,
    outputAudioFormat: str(s.output_audio_format) || undefined,
    inputAudioTranscription: transcription.model ? { model: str(transcription.model) } : undefined,
    turnDetection: {
      type: 'server_vad',
      threshold: num(td.threshold),
      prefixPaddingInMs: num(td.prefix_padding_ms),
      silenceDurationInMs: num(td.silence_duration_ms),
      createResponse: td.create_response !== false,
      interruptResponse: td.interrupt_response !== false,
    } as RequestSession['turnDetection'],
    tools: Array.isArray(s.tools) ? (s.tools as Json[]).map((t) => ({ type: 'function', name: str(t.name), description: str(t.description), parameters: t.parameters })) : undefined,
    toolChoice: s.tool_choice ? (str(s.tool_choice) as RequestSession['toolChoice']) : undefined,
  } as RequestSession;
}

/** One of the codec's client events (beta session shape) as the SDK's model; null: not one we send. */
export function toClientEvent(text: string): ClientEventUnion | null {
  // The caller's frames (50 a second, encodeAppend's fixed form): no JSON.parse on the hot path.
  if (text.startsWith(APPEND_HEAD) && text.endsWith('"}')) return { type: 'input_audio_buffer.append', audio: text.slice(APPEND_HEAD.length, -2) } as ClientEventUnion;
  const e = JSON.parse(text) as Json;
  switch (e.type) {
    case 'input_audio_buffer.append':
      return { type: 'input_audio_buffer.append', audio: str(e.audio) } as ClientEventUnion;
    case 'session.update':
      return { type: 'session.update', session: sessionOf(obj(e.session)) } as ClientEventUnion;
    case 'response.create': {
      const r = obj(e.response);
      return (r.instructions ? { type: 'response.create', response: { instructions: str(r.instructions) } } : { type: 'response.create' }) as ClientEventUnion;
    }
    case 'response.cancel':
      return { type: 'response.cancel' } as ClientEventUnion;
    case 'conversation.item.truncate':
      return { type: 'conversation.item.truncate', itemId: str(e.item_id), contentIndex: num(e.content_index), audioEndInMs: num(e.audio_end_ms) } as ClientEventUnion;
    case 'conversation.item.create': {
      const it = obj(e.item);
      const item = it.type === 'function_call_output' ? { type: 'function_call_output', callId: str(it.call_id), output: str(it.output) } : { type: 'message', role: str(it.role), content: it.content };
      return { type: 'conversation.item.create', item } as ClientEventUnion;
    }
    default:
      return null;
  }
}

/** The SDK's server event as the codec's ServerEvent (the same kinds decodeServerEvent yields). */
export function fromServerEvent(ev: ServerEventUnion): ServerEvent {
  const e = ev as unknown as Json;
  switch (e.type) {
    case 'response.audio.delta': {
      const d = e.delta;
      const audio = d instanceof Uint8Array ? Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64') : str(d);
      return { kind: 'audioDelta', responseId: str(e.responseId), itemId: str(e.itemId), audio };
    }
    case 'response.audio_transcript.delta':
      return { kind: 'transcriptDelta', itemId: str(e.itemId), delta: str(e.delta) };
    case 'response.audio.done':
      return { kind: 'audioDone', responseId: str(e.responseId), itemId: str(e.itemId) };
    case 'response.audio_transcript.done':
      return { kind: 'transcriptDone', itemId: str(e.itemId), transcript: str(e.transcript) };
    case 'session.created':
    case 'session.updated':
      return { kind: 'session', type: e.type };
    case 'input_audio_buffer.speech_started':
      return { kind: 'speechStarted', itemId: str(e.itemId), audioStartMs: num(e.audioStartInMs) };
    case 'input_audio_buffer.speech_stopped':
      return { kind: 'speechStopped', itemId: str(e.itemId) };
    case 'input_audio_buffer.committed':
      return { kind: 'committed', itemId: str(e.itemId) };
    case 'conversation.item.input_audio_transcription.completed':
      return { kind: 'inputTranscript', itemId: str(e.itemId), text: str(e.transcript) };
    case 'response.created':
      return { kind: 'responseCreated', responseId: str(obj(e.response).id) };
    case 'response.done': {
      const r = obj(e.response);
      const u = r.usage ? obj(r.usage) : null;
      const usage = u ? { inputTokens: num(u.inputTokens), outputTokens: num(u.outputTokens), inputAudioTokens: num(obj(u.inputTokenDetails).audioTokens), outputAudioTokens: num(obj(u.outputTokenDetails).audioTokens) } : null;
      return { kind: 'responseDone', responseId: str(r.id), status: str(r.status), usage };
    }
    case 'response.function_call_arguments.done':
      return { kind: 'functionCall', responseId: str(e.responseId), callId: str(e.callId), name: str(e.name), arguments: str(e.arguments) };
    case 'conversation.item.truncated':
      return { kind: 'truncated', itemId: str(e.itemId), audioEndMs: num(e.audioEndInMs) };
    case 'error': {
      const err = obj(e.error);
      return { kind: 'error', code: str(err.code) || str(err.type) || 'error', message: str(err.message) };
    }
    default:
      return { kind: 'other', type: str(e.type) };
  }
}

/** A RealtimeConnector over the Voice Live SDK: one VoiceLiveSession per model socket. */
export function createVoiceLiveConnector(client: VoiceLiveClient, cfg: Pick<RealtimeConfig, 'model'>): RealtimeConnector {
  return {
    shape: 'beta',
    voiceObject: true,
    transcriptionModel: 'azure-speech',
    async connect(handlers: RealtimeHandlers, timeoutMs: number): Promise<RealtimeLink> {
      const session: VoiceLiveSession = client.createSession(cfg.model, { connectionTimeoutInMs: timeoutMs });
      let mine = false;
      let closed = false;
      const lost = (code: number, reason: string): void => {
        if (closed) return;
        closed = true;
        if (!mine) handlers.onClose(code, reason);
      };
      session.subscribe({
        onServerEvent: async (ev) => {
          handlers.onEvent(fromServerEvent(ev), performance.now());
        },
        onDisconnected: async (args) => lost(args.code, args.reason),
        onError: async (args) => lost(1006, args.error.message),
      });
      await session.connect({ timeoutInMs: timeoutMs });
      return {
        get open() {
          return !closed && session.isConnected;
        },
        send(text) {
          if (closed || !session.isConnected) return;
          const ev = toClientEvent(text);
          // A send failing (socket going away) surfaces as onDisconnected; never an unhandled rejection.
          if (ev) session.sendEvent(ev).catch(() => undefined);
        },
        close() {
          mine = true;
          closed = true;
          void session.dispose().catch(() => undefined);
        },
      };
    },
  };
}
