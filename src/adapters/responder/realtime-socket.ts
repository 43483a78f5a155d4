// The model socket of one realtime session, over `ws` (OpenAI, Azure OpenAI; Voice Live goes through its
// SDK in realtime-voicelive.ts when the wiring has a VoiceLiveClient). The
// `openai` package's OpenAIRealtimeWS builds its URL from an OpenAI / AzureOpenAI client's baseURL
// and does not reach a Voice Live endpoint, and its send() stringifies every event (the caller's
// 50 frames a second go out here as prebuilt strings). Authentication as the providers document it:
// OpenAI `Authorization: Bearer <key>`; Azure OpenAI and Voice Live an `api-key` header, or
// `Authorization: Bearer <Entra ID token>` for https://cognitiveservices.azure.com/.default
// (managed identity; "How to use the Voice Live API", "Azure OpenAI Realtime API reference").
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { RealtimeConfig } from '../../config-realtime.js';
import { decodeServerEvent, type ServerEvent, type SessionShape } from './realtime-codec.js';

export interface RealtimeLink {
  readonly open: boolean;
  /** Sends one client event (JSON text). Dropped silently when the socket is not open. */
  send(text: string): void;
  /** Closes on our side (no onClose reconnect follows). */
  close(): void;
}

export interface RealtimeHandlers {
  /** `receivedAt`: performance.now() when the frame was delivered by the socket. */
  onEvent(ev: ServerEvent, receivedAt: number): void;
  /** The socket closed without close() from our side (drop, server close, network). */
  onClose(code: number, reason: string): void;
}

/** Opens model sessions; the bridge's port to the provider. */
export interface RealtimeConnector {
  readonly shape: SessionShape;
  readonly voiceObject: boolean;
  readonly transcriptionModel: string;
  connect(handlers: RealtimeHandlers, timeoutMs: number): Promise<RealtimeLink>;
}

const OPENAI_DEFAULT = 'wss://api.openai.com/v1/realtime';

/** The endpoint with the model named as the provider expects (model=, or deployment= on Azure's preview path). */
export function realtimeUrl(cfg: Pick<RealtimeConfig, 'provider' | 'url' | 'model'>): string {
  const u = new URL(cfg.url ?? OPENAI_DEFAULT);
  const preview = cfg.provider === 'azure-openai' && !u.pathname.includes('/openai/v1/');
  const param = preview ? 'deployment' : 'model';
  if (!u.searchParams.has(param)) u.searchParams.set(param, cfg.model);
  if (preview && !u.searchParams.has('api-version')) u.searchParams.set('api-version', '2025-04-01-preview');
  return u.toString();
}

export function sessionShapeOf(cfg: Pick<RealtimeConfig, 'provider' | 'url'>): SessionShape {
  if (cfg.provider === 'openai') return 'ga';
  if (cfg.provider === 'azure-openai' && cfg.url?.includes('/openai/v1/')) return 'ga';
  return 'beta';
}

export function createRealtimeConnector(cfg: RealtimeConfig, token: (() => Promise<string>) | null): RealtimeConnector {
  const url = realtimeUrl(cfg);
  const azure = cfg.provider !== 'openai';
  const headers = async (): Promise<Record<string, string>> => {
    if (cfg.apiKey) return azure ? { 'api-key': cfg.apiKey } : { authorization: `Bearer ${cfg.apiKey}` };
    if (token) return { authorization: `Bearer ${await token()}` };
    return {};
  };
  return {
    shape: sessionShapeOf(cfg),
    voiceObject: cfg.provider === 'voicelive',
    transcriptionModel: cfg.provider === 'voicelive' ? 'azure-speech' : 'whisper-1',
    async connect(handlers, timeoutMs) {
      const ws = new WebSocket(url, { headers: await headers(), perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 16 * 1024 * 1024 });
      let mine = false;
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`realtime endpoint answered HTTP ${res.statusCode}`)));
      });
      // Every socket keeps an 'error' listener (an unhandled one would end the process).
      ws.on('error', () => undefined);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          const at = performance.now();
          handlers.onEvent(decodeServerEvent(data.toString()), at);
        }
      });
      ws.on('close', (code, reason) => {
        if (!mine) handlers.onClose(code, reason.toString());
      });
      return {
        get open() {
          return ws.readyState === WebSocket.OPEN;
        },
        send(text) {
          if (ws.readyState === WebSocket.OPEN) ws.send(text);
        },
        close() {
          mine = true;
          if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'call ended');
        },
      };
    },
  };
}
