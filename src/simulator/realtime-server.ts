// A local realtime speech-to-speech server: the OpenAI Realtime / Azure OpenAI realtime / Azure AI
// Voice Live event protocol over one WebSocket per session, as the documentation describes it, so
// the worker's realtime bridge runs for real without keys (tests, the demo, benches). Sources:
// - "Azure OpenAI Realtime API reference" / "realtime audio events reference" (learn.microsoft.com,
//   azure/ai-foundry/openai/realtime-audio-reference): client events session.update,
//   input_audio_buffer.append/commit/clear, conversation.item.create/truncate, response.create/cancel;
//   server events session.created/updated, input_audio_buffer.speech_started/speech_stopped/committed,
//   conversation.item.created, conversation.item.input_audio_transcription.completed,
//   response.created, response.output_item.added, response.(output_)audio.delta / .done,
//   response.(output_)audio_transcript.delta / .done, response.done (usage), conversation.item.truncated,
//   error. PCM16 24 kHz mono little-endian, base64 in `audio` / `delta`.
// - "How to use the Voice Live API" (learn.microsoft.com, azure/ai-services/speech-service/voice-live-how-to):
//   "unless otherwise noted, the Voice Live API uses the same events as the Azure OpenAI Realtime
//   API"; endpoint /voice-live/realtime?api-version=…&model=…; `Authorization: Bearer <Entra token>`
//   or an `api-key` header.
// The older (preview / Voice Live) event names response.audio.delta and response.audio_transcript.delta
// and the GA names response.output_audio.delta and response.output_audio_transcript.delta: the server
// emits the family chosen by `eventNames` and accepts every client event under either spelling.
//
// Stand-ins, and only these: voice activity is a simple energy detector (server_vad's threshold,
// prefix_padding_ms and silence_duration_ms are honoured); transcription knows a phrase list (by
// default the simulator's caller script) and names the phrase whose voiced length is nearest to the
// speech segment; the "model" answers from a few rules (asked about a balance, it first calls the
// session's lookup_caller function when one is offered: response.function_call_arguments.done, then
// waits for the function_call_output item and a response.create); speech is the project's local TTS
// (src/adapters/tts, Flite) at 24 kHz. Tokens in `usage` are estimated from audio length (input
// ~1 token / 100 ms, output ~1 token / 50 ms) and text length (~4 characters a token).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { callerVoice, SCRIPT } from './caller-audio.js';
import { frameDb, pcmOf, REALTIME_RATE, runSession, tts, type RealtimeSessionRecord, type SessionEnv } from './realtime-session.js';

export { REALTIME_RATE, type RealtimeSessionRecord } from './realtime-session.js';
const FRAME_SAMPLES = 480;

export interface RealtimeServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** When set, a connection must carry `Authorization: Bearer <apiKey>` or `api-key: <apiKey>`. */
  readonly apiKey?: string;
  /** 'ga' (response.output_audio.delta, …) or 'beta' (response.audio.delta, …, as Voice Live names them). */
  readonly eventNames?: 'ga' | 'beta';
  /** Audio per delta event, ms (the services send chunks of ~100-200 ms). */
  readonly deltaMs?: number;
  /** How much faster than real time deltas are sent (the services generate ahead of playback). */
  readonly speedup?: number;
  /** Phrases the transcriber knows (default: the simulator's caller script). */
  readonly phrases?: readonly string[];
  /** Overrides the rule-based answer (tests). */
  readonly answer?: (userText: string | null, instructions: string) => string;
  /** Local TTS voice (Flite): a different voice than the simulated caller's. */
  readonly voice?: string;
}

export interface LocalRealtimeServer {
  readonly url: string;
  readonly port: number;
  readonly sessions: readonly RealtimeSessionRecord[];
  /** Drops every open session abruptly (no close frame, as a network failure would). */
  dropAll(): number;
  /** Drops one session abruptly; false when it is not open. */
  drop(sessionId: string): boolean;
  /** Refuses the next `n` connection attempts (HTTP 503 on the upgrade). */
  refuse(n: number): void;
  close(): Promise<void>;
}

export function ruleAnswer(userText: string | null): string {
  if (userText === null) return 'Hello, thanks for calling. How can I help you today?';
  const t = userText.toLowerCase();
  if (t.includes('balance')) return 'Of course. Your account balance is one hundred and twenty dollars and fifty cents. Is there anything else I can help you with today?';
  if (t.includes('hours') || t.includes('saturday')) return 'On Saturday we are open from nine in the morning until five in the afternoon. Anything else?';
  if (t.includes('goodbye') || t.includes('all i needed')) return 'You are welcome. Thank you for calling, goodbye.';
  if (t.includes('question')) return 'Sure, go ahead, what is your question?';
  return 'Sorry, could you say that again?';
}

export async function startRealtimeServer(opts: RealtimeServerOptions = {}): Promise<LocalRealtimeServer> {
  const names = opts.eventNames === 'beta'
    ? { audioDelta: 'response.audio.delta', audioDone: 'response.audio.done', textDelta: 'response.audio_transcript.delta', textDone: 'response.audio_transcript.done' }
    : { audioDelta: 'response.output_audio.delta', audioDone: 'response.output_audio.done', textDelta: 'response.output_audio_transcript.delta', textDone: 'response.output_audio_transcript.done' };
  const deltaSamples = Math.round(((opts.deltaMs ?? 100) * REALTIME_RATE) / 1000);
  const speedup = opts.speedup ?? 4;
  const voice = opts.voice ?? 'rms';
  const answer = opts.answer ?? ((u: string | null) => ruleAnswer(u));
  // Voiced frames per known phrase, measured on the simulator's own rendering of it at 24 kHz.
  const phraseList = opts.phrases ?? SCRIPT;
  const phrases = callerVoice(REALTIME_RATE).then((v) =>
    phraseList.map((text) => {
      const u = v.utterances.find((x) => x.text === text);
      // Span from the first to the last voiced frame (at the default gate), in frames.
      const levels = u ? u.frames.map((b64) => frameDb(pcmOf(b64), 0, FRAME_SAMPLES) >= -40) : [];
      const first = levels.indexOf(true);
      const voiced = first < 0 ? Math.round(text.length * 3) : levels.lastIndexOf(true) - first + 1;
      return { text, voiced };
    }),
  );
  phrases.catch(() => undefined);
  void tts(voice).warmUp?.();

  const env: SessionEnv = { names, deltaSamples, speedup, voice, answer, phrases };
  const records: RealtimeSessionRecord[] = [];
  const sockets = new Set<WebSocket>();
  const byId = new Map<string, WebSocket>();
  let refusals = 0;
  const http: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required');
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  http.on('upgrade', (req: IncomingMessage, socket, head) => {
    socket.on('error', () => undefined);
    const auth = req.headers.authorization;
    // Voice Live takes the key as an `api-key` header or an `api-key` query parameter ("How to use the
    // Voice Live API", Authentication); the SDK sends both. The recorded URL never holds the key.
    const reqUrl = new URL(req.url ?? '/', 'http://local');
    const key = req.headers['api-key'] ?? reqUrl.searchParams.get('api-key') ?? undefined;
    if (reqUrl.searchParams.has('api-key')) reqUrl.searchParams.set('api-key', '***');
    if (refusals > 0) {
      refusals--;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (opts.apiKey !== undefined && auth !== `Bearer ${opts.apiKey}` && key !== opts.apiKey) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const rec: RealtimeSessionRecord = {
        id: `sess_${randomUUID()}`,
        headers: { authorization: auth ? auth.replace(/\s.*/, ' ***') : undefined, 'api-key': key ? '***' : undefined },
        url: `${reqUrl.pathname}${reqUrl.search}`,
        events: [],
        appendMs: 0,
        transcripts: [],
        instructions: '',
        closed: false,
      };
      records.push(rec);
      sockets.add(ws);
      byId.set(rec.id, ws);
      ws.on('close', () => {
        rec.closed = true;
        sockets.delete(ws);
        byId.delete(rec.id);
      });
      runSession(ws, rec, env);
    });
  });

  await new Promise<void>((resolve) => http.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `ws://${opts.host ?? '127.0.0.1'}:${port}/v1/realtime`,
    port,
    sessions: records,
    dropAll() {
      const n = sockets.size;
      for (const s of sockets) s.terminate();
      return n;
    },
    drop(sessionId) {
      const ws = byId.get(sessionId);
      ws?.terminate();
      return ws !== undefined;
    },
    refuse(n) {
      refusals = n;
    },
    async close() {
      for (const s of sockets) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
