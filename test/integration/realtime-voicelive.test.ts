// REALTIME_PROVIDER=voicelive through the real Voice Live SDK (@azure/ai-voicelive) against the local
// realtime server: the SDK opens `/voice-live/realtime?api-version=…&model=…` with an `api-key` header
// (KeyCredential) or `Authorization: Bearer` (TokenCredential, scope https://ai.azure.com/.default) —
// "How to use the Voice Live API" / "Voice Live API reference". One socket per test, no sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenCredential } from '@azure/identity';
import { loadConfig } from '../../src/config.js';
import { createVoiceLiveClient } from '../../src/wiring/clients.js';
import { realtimeConnectorFor } from '../../src/wiring/realtime-wiring.js';
import type { RealtimeConnector, RealtimeLink } from '../../src/adapters/responder/realtime-socket.js';
import { decodePcm16, encodeResponseCancel, encodeResponseCreate, encodeSessionUpdate, encodeTruncate, type ServerEvent } from '../../src/adapters/responder/realtime-codec.js';
import { startRealtimeServer, type LocalRealtimeServer } from '../../src/simulator/realtime-server.js';

const KEY = 'vl-test-key';
const MODEL = 'gpt-4o-realtime-preview';
let server: LocalRealtimeServer;

beforeAll(async () => {
  server = await startRealtimeServer({ apiKey: KEY, eventNames: 'beta', deltaMs: 100, speedup: 20, answer: () => 'Hello, this is the voice live agent speaking to you now.' });
});
afterAll(async () => server.close());

function connectorFor(env: Record<string, string>, credential?: TokenCredential): RealtimeConnector {
  // The documented endpoint form: the api-version in REALTIME_URL is the one the SDK connects with.
  const config = loadConfig({ RESPONDER: 'realtime', REALTIME_PROVIDER: 'voicelive', REALTIME_URL: `${server.url}?api-version=2026-04-10`, REALTIME_MODEL: MODEL, LOG_LEVEL: 'silent', ...env });
  const client = createVoiceLiveClient(config, credential);
  if (!client) throw new Error('no Voice Live client for REALTIME_PROVIDER=voicelive');
  // As the worker chooses it (realtime-wiring.ts) for REALTIME_PROVIDER=voicelive.
  return realtimeConnectorFor(config.realtime, { token: null, voiceLive: client });
}

/** Connects and collects events; `until` resolves on the first event matching. */
async function open(connector: RealtimeConnector): Promise<{ link: RealtimeLink; events: ServerEvent[]; closes: number[]; until: (p: (e: ServerEvent) => boolean) => Promise<ServerEvent> }> {
  const events: ServerEvent[] = [];
  const closes: number[] = [];
  const waiters: { p: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void }[] = [];
  const link = await connector.connect(
    {
      onEvent(ev) {
        events.push(ev);
        for (const w of waiters.splice(0)) {
          if (w.p(ev)) w.resolve(ev);
          else waiters.push(w);
        }
      },
      onClose(code) {
        closes.push(code);
      },
    },
    2000,
  );
  const until = (p: (e: ServerEvent) => boolean): Promise<ServerEvent> => {
    const seen = events.find(p);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; events: ${JSON.stringify(events.filter((e) => e.kind !== 'audioDelta'))}`)), 4000);
      waiters.push({ p, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  };
  return { link, events, closes, until };
}

describe('Voice Live SDK connector (REALTIME_PROVIDER=voicelive) against the local realtime server', () => {
  it('opens a session with an api-key (KeyCredential), sends session.update, streams audio deltas back, and truncates what was played', async () => {
    const before = server.sessions.length;
    const c = connectorFor({ REALTIME_API_KEY: KEY });
    const s = await open(c);
    await s.until((e) => e.kind === 'session' && e.type === 'session.created');
    const rec = server.sessions[before]!;
    // The SDK's own URL and auth (Voice Live docs): path, api-version, model; api-key header (masked in the record).
    const url = new URL(rec.url, 'http://x');
    expect(url.pathname).toBe('/voice-live/realtime');
    expect(url.searchParams.get('model')).toBe(MODEL);
    expect(url.searchParams.get('api-version')).toBe('2026-04-10'); // not the SDK's default (2025-10-01)
    expect(rec.url).not.toContain(KEY);
    expect(rec.headers['api-key']).toBe('***');

    s.link.send(encodeSessionUpdate(c.shape, { instructions: 'Be brief.', voice: 'en-US-AvaNeural', silenceMs: 350, transcriptionModel: c.transcriptionModel, voiceObject: c.voiceObject }));
    await s.until((e) => e.kind === 'session' && e.type === 'session.updated');
    const update = rec.events.find((e) => e.type === 'session.update')!.body as { session: Record<string, unknown> };
    expect(update.session.instructions).toBe('Be brief.');
    expect(update.session.voice).toEqual({ type: 'azure-standard', name: 'en-US-AvaNeural' });
    expect(update.session.turn_detection).toMatchObject({ type: 'server_vad', silence_duration_ms: 350, prefix_padding_ms: 300, create_response: true, interrupt_response: true });
    expect(update.session.input_audio_transcription).toEqual({ model: 'azure-speech' });
    expect(rec.instructions).toBe('Be brief.');

    s.link.send(encodeResponseCreate());
    const delta = (await s.until((e) => e.kind === 'audioDelta')) as Extract<ServerEvent, { kind: 'audioDelta' }>;
    expect(delta.itemId).toMatch(/^item_/);
    expect(decodePcm16(delta.audio).length).toBe(2400); // 100 ms at 24 kHz, PCM16 intact through the SDK's bytes
    // Barge-in: cancel the response, truncate the item to what the caller heard.
    s.link.send(encodeResponseCancel());
    s.link.send(encodeTruncate(delta.itemId, 60));
    const truncated = (await s.until((e) => e.kind === 'truncated')) as Extract<ServerEvent, { kind: 'truncated' }>;
    expect(truncated).toEqual({ kind: 'truncated', itemId: delta.itemId, audioEndMs: 60 });
    const done = (await s.until((e) => e.kind === 'responseDone')) as Extract<ServerEvent, { kind: 'responseDone' }>;
    expect(done.status).toBe('cancelled');
    expect(done.usage?.inputTokens).toBeGreaterThan(0);
    const sent = rec.events.find((e) => e.type === 'conversation.item.truncate')!.body;
    expect(sent).toMatchObject({ item_id: delta.itemId, content_index: 0, audio_end_ms: 60 });
    expect(s.events.some((e) => e.kind === 'error')).toBe(false);

    s.link.close();
    expect(s.link.open).toBe(false);
    expect(s.closes).toEqual([]);
  });

  it('authenticates with a TokenCredential (managed identity path: Authorization: Bearer) and reports a server-side drop as onClose', async () => {
    const before = server.sessions.length;
    // A static credential standing in for DefaultAzureCredential (the server accepts `Bearer <key>`).
    const credential: TokenCredential = { getToken: async () => ({ token: KEY, expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const s = await open(connectorFor({}, credential));
    await s.until((e) => e.kind === 'session' && e.type === 'session.created');
    const rec = server.sessions[before]!;
    expect(rec.headers.authorization).toBe('Bearer ***');
    expect(server.drop(rec.id)).toBe(true);
    await expect.poll(() => s.closes.length, { timeout: 3000, interval: 20 }).toBe(1);
    expect(s.link.open).toBe(false);
  });

  it('is refused (HTTP 401) without a valid key', async () => {
    await expect(connectorFor({ REALTIME_API_KEY: 'wrong' }).connect({ onEvent: () => undefined, onClose: () => undefined }, 2000)).rejects.toThrow();
  });
});
