// The realtime event protocol (OpenAI Realtime GA, Azure OpenAI realtime, Azure AI Voice Live) as
// the bridge needs it: server events decoded into a small tagged union, client events encoded as
// JSON text. References: "Azure OpenAI Realtime API reference" (realtime audio events),
// "How to use the Voice Live API" (same events unless noted; learn.microsoft.com) and the OpenAI
// Realtime server events reference. Server event names differ between the GA API
// (response.output_audio.delta, response.output_audio_transcript.delta) and the preview API that Voice
// Live and older Azure deployments speak (response.audio.delta, response.audio_transcript.delta):
// both are accepted. The caller's audio goes out as input_audio_buffer.append with base64 PCM16.
import type { Turn } from '../../domain/conversation.js';

export interface RealtimeUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly inputAudioTokens: number;
  readonly outputAudioTokens: number;
}

export type ServerEvent =
  | { readonly kind: 'session'; readonly type: 'session.created' | 'session.updated' }
  | { readonly kind: 'speechStarted'; readonly itemId: string; readonly audioStartMs: number }
  | { readonly kind: 'speechStopped'; readonly itemId: string }
  | { readonly kind: 'committed'; readonly itemId: string }
  | { readonly kind: 'inputTranscript'; readonly itemId: string; readonly text: string }
  | { readonly kind: 'responseCreated'; readonly responseId: string }
  | { readonly kind: 'audioDelta'; readonly responseId: string; readonly itemId: string; readonly audio: string }
  | { readonly kind: 'audioDone'; readonly responseId: string; readonly itemId: string }
  | { readonly kind: 'transcriptDelta'; readonly itemId: string; readonly delta: string }
  | { readonly kind: 'transcriptDone'; readonly itemId: string; readonly transcript: string }
  | { readonly kind: 'responseDone'; readonly responseId: string; readonly status: string; readonly usage: RealtimeUsage | null }
  | { readonly kind: 'truncated'; readonly itemId: string; readonly audioEndMs: number }
  | { readonly kind: 'functionCall'; readonly responseId: string; readonly callId: string; readonly name: string; readonly arguments: string }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  | { readonly kind: 'other'; readonly type: string };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function usageOf(u: unknown): RealtimeUsage | null {
  if (!u || typeof u !== 'object') return null;
  const o = u as Record<string, unknown>;
  const inD = (o.input_token_details ?? {}) as Record<string, unknown>;
  const outD = (o.output_token_details ?? {}) as Record<string, unknown>;
  return { inputTokens: num(o.input_tokens), outputTokens: num(o.output_tokens), inputAudioTokens: num(inD.audio_tokens), outputAudioTokens: num(outD.audio_tokens) };
}

/** One server event (a text frame). Malformed JSON or a non-object is an 'error' event, never a throw. */
export function decodeServerEvent(text: string): ServerEvent {
  let e: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object') return { kind: 'error', code: 'invalid_event', message: 'event is not an object' };
    e = v as Record<string, unknown>;
  } catch {
    return { kind: 'error', code: 'invalid_json', message: 'event is not JSON' };
  }
  const type = str(e.type);
  switch (type) {
    case 'response.output_audio.delta':
    case 'response.audio.delta':
      return { kind: 'audioDelta', responseId: str(e.response_id), itemId: str(e.item_id), audio: str(e.delta) };
    case 'response.output_audio_transcript.delta':
    case 'response.audio_transcript.delta':
      return { kind: 'transcriptDelta', itemId: str(e.item_id), delta: str(e.delta) };
    case 'response.output_audio.done':
    case 'response.audio.done':
      return { kind: 'audioDone', responseId: str(e.response_id), itemId: str(e.item_id) };
    case 'response.output_audio_transcript.done':
    case 'response.audio_transcript.done':
      return { kind: 'transcriptDone', itemId: str(e.item_id), transcript: str(e.transcript) };
    case 'session.created':
    case 'session.updated':
      return { kind: 'session', type };
    case 'input_audio_buffer.speech_started':
      return { kind: 'speechStarted', itemId: str(e.item_id), audioStartMs: num(e.audio_start_ms) };
    case 'input_audio_buffer.speech_stopped':
      return { kind: 'speechStopped', itemId: str(e.item_id) };
    case 'input_audio_buffer.committed':
      return { kind: 'committed', itemId: str(e.item_id) };
    case 'conversation.item.input_audio_transcription.completed':
      return { kind: 'inputTranscript', itemId: str(e.item_id), text: str(e.transcript) };
    case 'response.created':
      return { kind: 'responseCreated', responseId: str((e.response as Record<string, unknown> | undefined)?.id) };
    case 'response.done': {
      const r = (e.response ?? {}) as Record<string, unknown>;
      return { kind: 'responseDone', responseId: str(r.id), status: str(r.status), usage: usageOf(r.usage) };
    }
    case 'response.function_call_arguments.done':
      return { kind: 'functionCall', responseId: str(e.response_id), callId: str(e.call_id), name: str(e.name), arguments: str(e.arguments) };
    case 'conversation.item.truncated':
      return { kind: 'truncated', itemId: str(e.item_id), audioEndMs: num(e.audio_end_ms) };
    case 'error': {
      const err = (e.error ?? {}) as Record<string, unknown>;
      return { kind: 'error', code: str(err.code) || str(err.type) || 'error', message: str(err.message) };
    }
    default:
      return { kind: 'other', type };
  }
}

/** Decodes base64 PCM16 LE into samples (a view when aligned, else one copy). */
export function decodePcm16(b64: string): Int16Array {
  const buf = Buffer.from(b64, 'base64');
  const n = buf.length >> 1;
  if ((buf.byteOffset & 1) === 0) return new Int16Array(buf.buffer, buf.byteOffset, n);
  const out = new Int16Array(n);
  new Uint8Array(out.buffer).set(buf.subarray(0, n * 2));
  return out;
}

const APPEND_HEAD = '{"type":"input_audio_buffer.append","audio":"';
const APPEND_TAIL = '"}';

/** input_audio_buffer.append for one frame (the samples are read, not kept). */
export function encodeAppend(pcm: Int16Array): string {
  return APPEND_HEAD + Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64') + APPEND_TAIL;
}

/** 'ga': the OpenAI GA session shape (session.type, session.audio.*); 'beta': the preview / Voice Live shape. */
export type SessionShape = 'ga' | 'beta';

export interface SessionSettings {
  readonly instructions: string;
  readonly voice: string;
  readonly silenceMs: number;
  readonly transcriptionModel: string;
  /** Voice Live names voices as objects ({ name, type }); others take the name. */
  readonly voiceObject: boolean;
  /** Function tools offered to the model (tool_choice auto). */
  readonly tools?: readonly { type: 'function'; name: string; description: string; parameters: unknown }[];
}

export function encodeSessionUpdate(shape: SessionShape, s: SessionSettings): string {
  const turn = { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: s.silenceMs, create_response: true, interrupt_response: true };
  if (shape === 'ga') {
    return JSON.stringify({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: s.instructions,
        output_modalities: ['audio'],
        ...(s.tools && s.tools.length > 0 ? { tools: s.tools, tool_choice: 'auto' } : {}),
        audio: {
          input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: turn, transcription: { model: s.transcriptionModel } },
          output: { format: { type: 'audio/pcm', rate: 24000 }, voice: s.voice },
        },
      },
    });
  }
  const voice = s.voiceObject ? { name: s.voice, type: s.voice.includes('-') ? 'azure-standard' : 'openai' } : s.voice;
  return JSON.stringify({
    type: 'session.update',
    session: {
      instructions: s.instructions,
      modalities: ['text', 'audio'],
      ...(s.tools && s.tools.length > 0 ? { tools: s.tools, tool_choice: 'auto' } : {}),
      voice,
      input_audio_format: 'pcm16',
      output_audio_format: 'pcm16',
      input_audio_transcription: { model: s.transcriptionModel },
      turn_detection: turn,
    },
  });
}

export function encodeResponseCreate(instructions?: string): string {
  return JSON.stringify(instructions ? { type: 'response.create', response: { instructions } } : { type: 'response.create' });
}

export function encodeResponseCancel(): string {
  return '{"type":"response.cancel"}';
}

/** conversation.item.truncate: the assistant item's audio is cut to what the caller heard. */
export function encodeTruncate(itemId: string, audioEndMs: number): string {
  return JSON.stringify({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: Math.max(0, Math.floor(audioEndMs)) });
}

/** A stored turn as a conversation item (history priming of a new session). */
export function encodeHistoryItem(shape: SessionShape, t: Pick<Turn, 'speaker' | 'text' | 'interrupted'>): string {
  const assistant = t.speaker === 'assistant';
  const text = assistant && t.interrupted ? `${t.text} [interrupted by the caller]` : t.text;
  const content = assistant ? [{ type: shape === 'ga' ? 'output_text' : 'text', text }] : [{ type: 'input_text', text }];
  return JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: assistant ? 'assistant' : 'user', content } });
}

/** The result of a function call, as a conversation item (then response.create lets the model go on). */
export function encodeFunctionOutput(callId: string, output: string): string {
  return JSON.stringify({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } });
}
