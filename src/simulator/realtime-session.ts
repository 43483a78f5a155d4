// One session of the local realtime server (realtime-server.ts): the protocol state machine of one
// WebSocket — session settings, energy VAD over the appended audio, the phrase transcriber,
// responses (audio and transcript deltas paced ahead of real time, function calls), cancel and
// truncate. See realtime-server.ts for the documents it follows.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { FliteSynthesizer } from '../adapters/tts/flite-synthesizer.js';

export const REALTIME_RATE = 24_000;
const FRAME_SAMPLES = 480; // 20 ms at 24 kHz

export interface RealtimeSessionRecord {
  readonly id: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly url: string;
  /** Client events received, in order (append bodies not kept; see appendFrames). */
  readonly events: { type: string; at: number; body: Record<string, unknown> }[];
  appendMs: number;
  /** What the transcriber heard, in order. */
  readonly transcripts: string[];
  instructions: string;
  closed: boolean;
}

/** What every session of one server shares (event names, pacing, voice, answers, known phrases). */
export interface SessionEnv {
  readonly names: { readonly audioDelta: string; readonly audioDone: string; readonly textDelta: string; readonly textDone: string };
  readonly deltaSamples: number;
  readonly speedup: number;
  readonly voice: string;
  readonly answer: (userText: string | null, instructions: string) => string;
  readonly phrases: Promise<readonly { readonly text: string; readonly voiced: number }[]>;
}

interface Item {
  readonly id: string;
  readonly role: 'user' | 'assistant' | 'system';
  transcript: string;
  audioMs: number;
}

interface Response {
  readonly id: string;
  readonly item: Item;
  cancelled: boolean;
  timer: NodeJS.Timeout | null;
}

const TTS = new Map<string, FliteSynthesizer>();
/** Answers repeat across sessions: each text is synthesized once per process. */
const SPOKEN = new Map<string, Promise<Int16Array>>();
export function speak(voice: string, text: string): Promise<Int16Array> {
  const key = `${voice}\u0000${text}`;
  let p = SPOKEN.get(key);
  if (!p) {
    p = tts(voice).synthesize(text, REALTIME_RATE, AbortSignal.timeout(30_000));
    p.catch(() => SPOKEN.delete(key));
    if (SPOKEN.size > 256) SPOKEN.delete(SPOKEN.keys().next().value as string);
    SPOKEN.set(key, p);
  }
  return p;
}
export function tts(voice: string): FliteSynthesizer {
  let s = TTS.get(voice);
  if (!s) TTS.set(voice, (s = new FliteSynthesizer({ voice: voice as 'slt' })));
  return s;
}

export function frameDb(pcm: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (pcm[i] as number) ** 2;
  return sum === 0 ? -120 : 10 * Math.log10(sum / (to - from) / 32768 ** 2);
}

/** Rule-based answers: enough to hold a conversation in a test or the demo. */

export function runSession(ws: WebSocket, rec: RealtimeSessionRecord, env: SessionEnv): void {
  const { names, deltaSamples, speedup, voice, answer, phrases } = env;
  const session = {
    id: rec.id,
    object: 'realtime.session',
    model: new URL(rec.url, 'http://x').searchParams.get('model') ?? 'local-realtime',
    instructions: '',
    voice: 'alloy',
    input_audio_format: 'pcm16',
    output_audio_format: 'pcm16',
    input_audio_transcription: null as unknown,
    turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true } as Record<string, unknown>,
  };
  const items = new Map<string, Item>();
  let lastUser: string | null = null;
  let tools: { name?: string }[] = [];
  let response: Response | null = null;
  // Energy VAD over the appended audio (20 ms frames), in audio time since the session began.
  let audioMs = 0;
  let speaking = false;
  let voicedRun = 0;
  let silenceMs = 0;
  let segStart = 0;
  let segVoiced = 0;
  let itemId = '';
  let carry = new Int16Array(0);
  let usage = { inputAudioMs: 0 };

  const send = (type: string, body: Record<string, unknown> = {}): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type, event_id: `event_${randomUUID()}`, ...body }));
  };
  const error = (code: string, message: string, clientEventId?: unknown): void =>
    send('error', { error: { type: 'invalid_request_error', code, message, param: null, event_id: clientEventId ?? null } });

  send('session.created', { session });

  const cancel = (reason: string): void => {
    const r = response;
    if (!r) return;
    r.cancelled = true;
    if (r.timer) clearTimeout(r.timer);
    response = null;
    send('response.done', { response: { id: r.id, object: 'realtime.response', status: 'cancelled', status_details: { type: 'cancelled', reason }, output: [outItem(r.item)], usage: usageOf(r, 0) } });
  };
  const outItem = (it: Item) => ({ id: it.id, object: 'realtime.item', type: 'message', role: it.role, status: 'completed', content: [{ type: 'output_audio', transcript: it.transcript }] });
  const usageOf = (r: Response, outMs: number) => {
    const inAudio = Math.round(usage.inputAudioMs / 100);
    const inText = Math.ceil(rec.instructions.length / 4);
    const outAudio = Math.round(outMs / 50);
    const outText = Math.ceil(r.item.transcript.length / 4);
    usage = { inputAudioMs: 0 };
    return {
      total_tokens: inAudio + inText + outAudio + outText,
      input_tokens: inAudio + inText,
      output_tokens: outAudio + outText,
      // cached_tokens_details as Voice Live's usage model has it (CachedTokenDetails: text/audio/image tokens).
      input_token_details: { text_tokens: inText, audio_tokens: inAudio, cached_tokens: 0, cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 } },
      output_token_details: { text_tokens: outText, audio_tokens: outAudio },
    };
  };

  const respond = async (instructions: string | undefined): Promise<void> => {
    if (response) cancel('superseded');
    const item: Item = { id: `item_${randomUUID()}`, role: 'assistant', transcript: '', audioMs: 0 };
    const r: Response = { id: `resp_${randomUUID()}`, item, cancelled: false, timer: null };
    response = r;
    send('response.created', { response: { id: r.id, object: 'realtime.response', status: 'in_progress', output: [] } });
    const text = answer(lastUser, instructions ?? session.instructions);
    let pcm: Int16Array;
    try {
      pcm = await speak(voice, text);
    } catch (err) {
      if (response === r) response = null;
      send('response.done', { response: { id: r.id, status: 'failed', status_details: { type: 'failed', error: { type: 'server_error', message: String(err) } }, output: [] } });
      return;
    }
    if (r.cancelled) return;
    items.set(item.id, item);
    item.audioMs = Math.round((pcm.length * 1000) / REALTIME_RATE);
    send('response.output_item.added', { response_id: r.id, output_index: 0, item: { id: item.id, object: 'realtime.item', type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
    send('conversation.item.created', { item: { id: item.id, object: 'realtime.item', type: 'message', role: 'assistant', content: [] } });
    send('response.content_part.added', { response_id: r.id, item_id: item.id, output_index: 0, content_index: 0, part: { type: 'audio', transcript: '' } });
    const words = text.split(/\s+/);
    let offset = 0;
    let word = 0;
    const base = { response_id: r.id, item_id: item.id, output_index: 0, content_index: 0 };
    const step = (): void => {
      if (r.cancelled) return;
      if (offset < pcm.length) {
        const chunk = pcm.subarray(offset, Math.min(pcm.length, offset + deltaSamples));
        offset += chunk.length;
        send(names.audioDelta, { ...base, delta: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64') });
        // Transcript words in step with the audio (the services send text slightly ahead).
        const due = Math.ceil((words.length * offset) / pcm.length);
        while (word < due) {
          const delta = (word > 0 ? ' ' : '') + (words[word] as string);
          item.transcript += delta;
          send(names.textDelta, { ...base, delta });
          word++;
        }
        r.timer = setTimeout(step, (chunk.length * 1000) / REALTIME_RATE / speedup);
        return;
      }
      send(names.audioDone, base);
      send(names.textDone, { ...base, transcript: item.transcript });
      send('response.content_part.done', { ...base, part: { type: 'audio', transcript: item.transcript } });
      send('response.output_item.done', { response_id: r.id, output_index: 0, item: outItem(item) });
      if (response === r) response = null;
      send('response.done', { response: { id: r.id, object: 'realtime.response', status: 'completed', output: [outItem(item)], usage: usageOf(r, item.audioMs) } });
    };
    step();
  };

  /** A response whose only output is a function call (the client runs it and answers). */
  const callTool = (name: string): void => {
    if (response) cancel('superseded');
    const id = `resp_${randomUUID()}`;
    const item = { id: `item_${randomUUID()}`, object: 'realtime.item', type: 'function_call', status: 'completed', name, call_id: `call_${randomUUID()}`, arguments: '{}' };
    send('response.created', { response: { id, object: 'realtime.response', status: 'in_progress', output: [] } });
    send('response.output_item.added', { response_id: id, output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } });
    send('response.function_call_arguments.delta', { response_id: id, item_id: item.id, output_index: 0, call_id: item.call_id, delta: '{}' });
    send('response.function_call_arguments.done', { response_id: id, item_id: item.id, output_index: 0, call_id: item.call_id, name, arguments: '{}' });
    send('response.output_item.done', { response_id: id, output_index: 0, item });
    send('response.done', { response: { id, object: 'realtime.response', status: 'completed', output: [item], usage: { total_tokens: 10, input_tokens: 8, output_tokens: 2, input_token_details: { text_tokens: 8, audio_tokens: 0, cached_tokens: 0 }, output_token_details: { text_tokens: 2, audio_tokens: 0 } } } });
  };

  const transcribe = async (id: string, voiced: number): Promise<void> => {
    let best = '';
    try {
      const list = await phrases;
      let d = Number.POSITIVE_INFINITY;
      for (const p of list) {
        const dd = Math.abs(p.voiced - voiced);
        if (dd < d) {
          d = dd;
          best = p.text;
        }
      }
      if (d > Math.max(10, voiced * 0.35)) best = '';
    } catch {
      best = '';
    }
    const it = items.get(id);
    if (it) it.transcript = best;
    rec.transcripts.push(best);
    if (session.input_audio_transcription) {
      send('conversation.item.input_audio_transcription.completed', { item_id: id, content_index: 0, transcript: best });
    }
    lastUser = best.length > 0 ? best : null;
    const td = session.turn_detection as { create_response?: boolean } | null;
    if (td && td.create_response !== false && best.length > 0) {
      if (best.toLowerCase().includes('balance') && tools.some((t) => t.name === 'lookup_caller')) callTool('lookup_caller');
      else void respond(undefined);
    }
  };

  const onFrame = (pcm: Int16Array, from: number): void => {
    const td = session.turn_detection as { threshold?: number; silence_duration_ms?: number; prefix_padding_ms?: number; interrupt_response?: boolean } | null;
    audioMs += 20;
    usage.inputAudioMs += 20;
    if (!td) return;
    // threshold 0..1 (higher = louder needed) mapped onto -60..-20 dBFS.
    const gate = -60 + 40 * (td.threshold ?? 0.5);
    const voiced = frameDb(pcm, from, from + FRAME_SAMPLES) >= gate;
    if (!speaking) {
      voicedRun = voiced ? voicedRun + 1 : 0;
      if (voicedRun >= 2) {
        speaking = true;
        silenceMs = 0;
        segStart = audioMs - 40;
        segVoiced = 2;
        itemId = `item_${randomUUID()}`;
        send('input_audio_buffer.speech_started', { audio_start_ms: Math.max(0, segStart - (td.prefix_padding_ms ?? 300)), item_id: itemId });
        if (td.interrupt_response !== false && response) cancel('turn_detected');
      }
      return;
    }
    if (voiced) {
      segVoiced = (audioMs - segStart) / 20; // span first..last voiced frame
      silenceMs = 0;
      return;
    }
    silenceMs += 20;
    if (silenceMs < (td.silence_duration_ms ?? 500)) return;
    speaking = false;
    voicedRun = 0;
    const id = itemId;
    send('input_audio_buffer.speech_stopped', { audio_end_ms: audioMs - silenceMs, item_id: id });
    send('input_audio_buffer.committed', { item_id: id, previous_item_id: null });
    items.set(id, { id, role: 'user', transcript: '', audioMs: audioMs - silenceMs - segStart });
    send('conversation.item.created', { previous_item_id: null, item: { id, object: 'realtime.item', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] } });
    void transcribe(id, segVoiced);
  };

  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return error('invalid_event', 'binary frames are not part of the protocol');
    let ev: Record<string, unknown>;
    try {
      ev = JSON.parse(data.toString()) as Record<string, unknown>;
    } catch {
      return error('invalid_json', 'could not parse the event as JSON');
    }
    const type = typeof ev.type === 'string' ? ev.type : '';
    if (type !== 'input_audio_buffer.append' && rec.events.length < 1000) rec.events.push({ type, at: Date.now(), body: ev });
    switch (type) {
      case 'session.update': {
        const s = (ev.session ?? {}) as Record<string, unknown>;
        // GA shape: session.audio.input.turn_detection / .transcription; beta/Voice Live: top level.
        const audio = s.audio as { input?: { turn_detection?: unknown; transcription?: unknown }; output?: { voice?: unknown } } | undefined;
        if (typeof s.instructions === 'string') rec.instructions = session.instructions = s.instructions;
        if (typeof s.voice === 'string') session.voice = s.voice;
        if (typeof audio?.output?.voice === 'string') session.voice = audio.output.voice;
        const td = 'turn_detection' in s ? s.turn_detection : audio?.input && 'turn_detection' in audio.input ? audio.input.turn_detection : undefined;
        if (td !== undefined) session.turn_detection = td === null ? (null as unknown as Record<string, unknown>) : { ...session.turn_detection, ...(td as Record<string, unknown>) };
        if (Array.isArray(s.tools)) tools = s.tools as { name?: string }[];
        const tr = 'input_audio_transcription' in s ? s.input_audio_transcription : audio?.input?.transcription;
        if (tr !== undefined) session.input_audio_transcription = tr;
        return send('session.updated', { session });
      }
      case 'input_audio_buffer.append': {
        if (typeof ev.audio !== 'string') return error('invalid_value', 'audio must be base64 PCM16');
        const pcm = pcmOf(ev.audio);
        rec.appendMs += (pcm.length * 1000) / REALTIME_RATE;
        // Frames of 20 ms across append boundaries.
        let all = pcm;
        if (carry.length > 0) {
          all = new Int16Array(carry.length + pcm.length);
          all.set(carry);
          all.set(pcm, carry.length);
        }
        let off = 0;
        for (; off + FRAME_SAMPLES <= all.length; off += FRAME_SAMPLES) onFrame(all, off);
        carry = all.slice(off);
        return;
      }
      case 'input_audio_buffer.commit':
      case 'input_audio_buffer.clear':
        return send(type === 'input_audio_buffer.commit' ? 'input_audio_buffer.committed' : 'input_audio_buffer.cleared', type === 'input_audio_buffer.commit' ? { item_id: `item_${randomUUID()}`, previous_item_id: null } : {});
      case 'conversation.item.create': {
        const item = (ev.item ?? {}) as { id?: string; type?: string; call_id?: string; output?: string; role?: string; content?: { text?: string; transcript?: string }[] };
        const id = item.id ?? `item_${randomUUID()}`;
        if (item.type === 'function_call_output') {
          if (typeof item.call_id !== 'string' || typeof item.output !== 'string') return error('invalid_value', 'function_call_output needs call_id and output', ev.event_id);
          return send('conversation.item.created', { previous_item_id: null, item: { id, object: 'realtime.item', type: 'function_call_output', call_id: item.call_id, output: item.output } });
        }
        const role = item.role === 'assistant' || item.role === 'system' ? item.role : 'user';
        const text = (item.content ?? []).map((c) => c.text ?? c.transcript ?? '').join(' ');
        items.set(id, { id, role, transcript: text, audioMs: 0 });
        if (role === 'user' && text) lastUser = text;
        return send('conversation.item.created', { previous_item_id: null, item: { id, object: 'realtime.item', type: 'message', role, status: 'completed', content: item.content ?? [] } });
      }
      case 'response.create': {
        const r = (ev.response ?? {}) as { instructions?: string };
        void respond(r.instructions);
        return;
      }
      case 'response.cancel':
        if (!response) return error('response_cancel_not_active', 'Cancellation failed: no active response found.', ev.event_id);
        return cancel('client_cancelled');
      case 'conversation.item.truncate': {
        const id = String(ev.item_id ?? '');
        const it = items.get(id);
        const end = Number(ev.audio_end_ms);
        if (!it || it.role !== 'assistant') return error('item_not_found', `no assistant item ${id}`, ev.event_id);
        if (!Number.isFinite(end) || end < 0 || end > it.audioMs) return error('invalid_value', `audio_end_ms ${end} is beyond the item's ${it.audioMs} ms of audio`, ev.event_id);
        // The transcript is cut to what was heard (the services delete the unheard text).
        const words = it.transcript.split(/\s+/).filter(Boolean);
        it.transcript = words.slice(0, Math.round((words.length * end) / Math.max(1, it.audioMs))).join(' ');
        it.audioMs = end;
        return send('conversation.item.truncated', { item_id: id, content_index: Number(ev.content_index ?? 0), audio_end_ms: end });
      }
      default:
        return error('invalid_event', `unknown event type '${type}'`, ev.event_id);
    }
  });
  ws.on('close', () => {
    if (response?.timer) clearTimeout(response.timer);
    if (response) response.cancelled = true;
  });
}

export function pcmOf(b64: string): Int16Array {
  const buf = Buffer.from(b64, 'base64');
  if ((buf.byteOffset & 1) === 0) return new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}
