// The realtime event codec (realtime-codec.ts) against the event shapes of the Azure OpenAI realtime
// audio events reference and Voice Live (same events; the preview names response.audio.* and the GA
// names response.output_audio.* are both in use), the URL / session shapes per provider, the
// 16 → 24 kHz frame upsampler and the realtime config rules.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  decodePcm16,
  decodeServerEvent,
  encodeAppend,
  encodeHistoryItem,
  encodeSessionUpdate,
  encodeTruncate,
} from '../../src/adapters/responder/realtime-codec.js';
import { FrameUpsampler } from '../../src/adapters/responder/realtime-audio.js';
import { realtimeUrl, sessionShapeOf } from '../../src/adapters/responder/realtime-socket.js';

describe('realtime codec', () => {
  it('decodes audio and transcript deltas under the GA and the preview / Voice Live names alike', () => {
    for (const type of ['response.output_audio.delta', 'response.audio.delta']) {
      expect(decodeServerEvent(JSON.stringify({ type, response_id: 'r1', item_id: 'i1', output_index: 0, content_index: 0, delta: 'AAA=' }))).toEqual({ kind: 'audioDelta', responseId: 'r1', itemId: 'i1', audio: 'AAA=' });
    }
    for (const type of ['response.output_audio_transcript.delta', 'response.audio_transcript.delta']) {
      expect(decodeServerEvent(JSON.stringify({ type, item_id: 'i1', delta: 'Hel' }))).toEqual({ kind: 'transcriptDelta', itemId: 'i1', delta: 'Hel' });
    }
    for (const type of ['response.output_audio.done', 'response.audio.done']) expect(decodeServerEvent(JSON.stringify({ type, response_id: 'r', item_id: 'i' })).kind).toBe('audioDone');
  });

  it('decodes VAD, transcription, response.done usage, truncated and error events', () => {
    expect(decodeServerEvent('{"type":"input_audio_buffer.speech_started","audio_start_ms":1000,"item_id":"u1"}')).toEqual({ kind: 'speechStarted', itemId: 'u1', audioStartMs: 1000 });
    expect(decodeServerEvent('{"type":"conversation.item.input_audio_transcription.completed","item_id":"u1","content_index":0,"transcript":"Hello."}')).toEqual({ kind: 'inputTranscript', itemId: 'u1', text: 'Hello.' });
    const done = decodeServerEvent(
      JSON.stringify({ type: 'response.done', response: { id: 'r1', status: 'completed', usage: { total_tokens: 30, input_tokens: 10, output_tokens: 20, input_token_details: { audio_tokens: 7 }, output_token_details: { audio_tokens: 15 } } } }),
    );
    expect(done).toEqual({ kind: 'responseDone', responseId: 'r1', status: 'completed', usage: { inputTokens: 10, outputTokens: 20, inputAudioTokens: 7, outputAudioTokens: 15 } });
    expect(decodeServerEvent('{"type":"response.done","response":{"id":"r2","status":"cancelled"}}')).toMatchObject({ status: 'cancelled', usage: null });
    expect(decodeServerEvent('{"type":"conversation.item.truncated","item_id":"a1","content_index":0,"audio_end_ms":1500}')).toEqual({ kind: 'truncated', itemId: 'a1', audioEndMs: 1500 });
    expect(decodeServerEvent('{"type":"error","error":{"type":"invalid_request_error","code":"response_cancel_not_active","message":"no active response"}}')).toEqual({ kind: 'error', code: 'response_cancel_not_active', message: 'no active response' });
  });

  it('never throws on malformed input and passes unknown types through', () => {
    expect(decodeServerEvent('not json').kind).toBe('error');
    expect(decodeServerEvent('42').kind).toBe('error');
    expect(decodeServerEvent('{"type":"rate_limits.updated","rate_limits":[]}')).toEqual({ kind: 'other', type: 'rate_limits.updated' });
  });

  it('encodes append as base64 PCM16 LE and decodes it back (aligned or not)', () => {
    const pcm = Int16Array.from([0, 1, -1, 32767, -32768]);
    const ev = JSON.parse(encodeAppend(pcm)) as { type: string; audio: string };
    expect(ev.type).toBe('input_audio_buffer.append');
    expect(Buffer.from(ev.audio, 'base64')).toEqual(Buffer.from([0, 0, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80]));
    expect([...decodePcm16(ev.audio)]).toEqual([...pcm]);
  });

  it('truncate carries item_id, content_index 0 and whole audio_end_ms', () => {
    expect(JSON.parse(encodeTruncate('item_1', 1234.7))).toEqual({ type: 'conversation.item.truncate', item_id: 'item_1', content_index: 0, audio_end_ms: 1234 });
  });

  it('session.update in the GA shape (session.type, audio.input/output) and the preview / Voice Live shape', () => {
    const s = { instructions: 'Be brief.', voice: 'alloy', silenceMs: 400, transcriptionModel: 'whisper-1', voiceObject: false };
    const ga = JSON.parse(encodeSessionUpdate('ga', s)) as { session: { type: string; audio: { input: { format: unknown; turn_detection: unknown }; output: { voice: unknown } } } };
    expect(ga.session.type).toBe('realtime');
    expect(ga.session.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(ga.session.audio.input.turn_detection).toMatchObject({ type: 'server_vad', silence_duration_ms: 400, interrupt_response: true });
    expect(ga.session.audio.output.voice).toBe('alloy');
    const beta = JSON.parse(encodeSessionUpdate('beta', { ...s, voice: 'en-US-AvaNeural', voiceObject: true, transcriptionModel: 'azure-speech' })) as { session: Record<string, unknown> };
    expect(beta.session).toMatchObject({ input_audio_format: 'pcm16', output_audio_format: 'pcm16', voice: { name: 'en-US-AvaNeural', type: 'azure-standard' }, input_audio_transcription: { model: 'azure-speech' } });
  });

  it('history items: user input_text, assistant output_text (GA) or text (preview), interruptions marked', () => {
    expect(JSON.parse(encodeHistoryItem('ga', { speaker: 'user', text: 'Hi' }))).toEqual({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] } });
    expect(JSON.parse(encodeHistoryItem('beta', { speaker: 'assistant', text: 'Your balance', interrupted: true })).item.content).toEqual([{ type: 'text', text: 'Your balance [interrupted by the caller]' }]);
  });

  it('names the model as each provider expects', () => {
    expect(realtimeUrl({ provider: 'openai', url: null, model: 'gpt-realtime' })).toBe('wss://api.openai.com/v1/realtime?model=gpt-realtime');
    expect(realtimeUrl({ provider: 'voicelive', url: 'wss://r.services.ai.azure.com/voice-live/realtime?api-version=2025-10-01', model: 'gpt-4o' })).toBe('wss://r.services.ai.azure.com/voice-live/realtime?api-version=2025-10-01&model=gpt-4o');
    expect(realtimeUrl({ provider: 'azure-openai', url: 'wss://r.openai.azure.com/openai/realtime', model: 'dep' })).toBe('wss://r.openai.azure.com/openai/realtime?deployment=dep&api-version=2025-04-01-preview');
    expect(sessionShapeOf({ provider: 'azure-openai', url: 'wss://r.openai.azure.com/openai/v1/realtime' })).toBe('ga');
    expect(sessionShapeOf({ provider: 'voicelive', url: 'wss://x' })).toBe('beta');
  });
});

describe('16 → 24 kHz frame upsampler', () => {
  it('turns 320 samples into 480 in one reused buffer, continuous across frames', () => {
    const up = new FrameUpsampler(320);
    const ramp = (from: number) => Int16Array.from({ length: 320 }, (_, i) => (from + i) * 3);
    const a = up.push(ramp(0));
    expect(a.length).toBe(480);
    const copy = [...a];
    const b = up.push(ramp(320));
    expect(b).toBe(a); // the same buffer: no allocation per frame
    // A ramp stays a ramp (slope 2 per output sample), also across the frame boundary.
    const joined = [...copy, ...b];
    for (let i = 2; i < joined.length; i++) expect(Math.abs((joined[i] as number) - (joined[i - 1] as number) - 2)).toBeLessThanOrEqual(1);
  });
});

describe('realtime config', () => {
  const base = { APP_ENV: 'test', RESPONDER: 'realtime' };
  it('answers realtime calls with pcm24KMono unless MEDIA_AUDIO_FORMAT is set', () => {
    expect(loadConfig({ ...base, REALTIME_URL: 'ws://127.0.0.1:9/v1/realtime' }).media).toMatchObject({ audioFormat: 'pcm24KMono', sampleRate: 24000 });
    expect(loadConfig({ ...base, REALTIME_URL: 'ws://127.0.0.1:9/v1/realtime', MEDIA_AUDIO_FORMAT: 'pcm16KMono' }).media.sampleRate).toBe(16000);
    expect(loadConfig({ APP_ENV: 'test' }).media.sampleRate).toBe(16000);
  });
  it('lists every problem: Azure without URL, OpenAI without key, plain ws:// off the machine', () => {
    expect(() => loadConfig({ ...base, REALTIME_PROVIDER: 'voicelive' })).toThrow(/REALTIME_URL: required with REALTIME_PROVIDER=voicelive/);
    expect(() => loadConfig(base)).toThrow(/REALTIME_API_KEY/);
    expect(() => loadConfig({ ...base, REALTIME_URL: 'ws://example.com/realtime', REALTIME_API_KEY: 'k' })).toThrow(/ws:\/\/ \(no TLS\)/);
  });
  it('Azure without a key means managed identity (no key in the slice)', () => {
    const c = loadConfig({ ...base, REALTIME_PROVIDER: 'azure-openai', REALTIME_URL: 'wss://r.openai.azure.com/openai/v1/realtime', OPENAI_API_KEY: 'not-for-azure' });
    expect(c.realtime).toMatchObject({ provider: 'azure-openai', apiKey: null, model: 'gpt-realtime' });
  });
});
