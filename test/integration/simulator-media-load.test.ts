// The media-only load (what bench:media drives the worker with) against a small ws server: every stream
// sends AudioMetadata then AudioData the SDK parses, one per 20 ms with its own timestamps, carrying the
// recording at the stream's phase; the upgrade carries the given headers; what the server sends back is
// counted by kind.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingData } from '@azure/communication-call-automation';
import { WebSocketServer } from 'ws';
import { runMediaLoad, type MediaLoadStats } from '../../src/simulator/media-load.js';

interface Conn {
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly messages: string[];
}

describe('runMediaLoad', () => {
  let server: Server;
  const conns: Conn[] = [];
  let stats: MediaLoadStats;
  let serverClosed = 0;
  // 10 frames: frame k is filled with byte k+1, frame 3 is silence.
  const pcm = Buffer.concat(Array.from({ length: 10 }, (_, k) => Buffer.alloc(640, k === 3 ? 0 : k + 1)));

  beforeAll(async () => {
    server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on('connection', (ws, req) => {
      const c: Conn = { url: req.url ?? '', headers: req.headers, messages: [] };
      conns.push(c);
      ws.on('close', () => serverClosed++);
      ws.on('message', (d) => {
        c.messages.push(d.toString());
        if (c.messages.length === 3) {
          ws.send(JSON.stringify({ kind: 'audioData', audioData: { data: Buffer.alloc(640).toString('base64') } }));
          ws.send(JSON.stringify({ Kind: 'StopAudio', StopAudio: {} }));
          ws.send('{"kind":"somethingElse"}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    let connected = 0;
    stats = await runMediaLoad({
      urls: [0, 1, 2].map((i) => `ws://127.0.0.1:${port}/ws/media?callId=c${i}&secret=s${i}`),
      headers: { 'x-ms-call-connection-id': 'cc-1', authorization: 'Bearer t' },
      durationMs: 400,
      pcm,
      connectBatch: 2,
      onConnected: (n) => (connected = n),
    });
    expect(connected).toBe(3);
    // The streams end with a close handshake: wait until the server has seen every frame and the close.
    for (let i = 0; i < 200 && serverClosed < 3; i++) await new Promise((r) => setTimeout(r, 10));
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('opens one stream per URL with the given upgrade headers', () => {
    expect(conns.map((c) => c.url).sort()).toEqual([0, 1, 2].map((i) => `/ws/media?callId=c${i}&secret=s${i}`));
    for (const c of conns) expect(c.headers).toMatchObject({ 'x-ms-call-connection-id': 'cc-1', authorization: 'Bearer t' });
  });

  it('sends AudioMetadata, then AudioData every 20 ms that the SDK parses, looping the recording', () => {
    const frames = new Set<string>();
    for (const c of conns) {
      expect(StreamingData.parse(c.messages[0]!)).toMatchObject({ sampleRate: 16000, encoding: 'PCM', channels: 1 });
      const audio = c.messages.slice(1).map((m) => JSON.parse(m) as { kind: string; audioData: { data: string; timestamp: string; silent: boolean } });
      expect(audio.length).toBeGreaterThan(5);
      for (let i = 0; i < audio.length; i++) {
        const a = audio[i]!;
        expect(a.kind).toBe('AudioData');
        expect(StreamingData.parse(c.messages[i + 1]!)).toMatchObject({ data: a.audioData.data, isSilent: a.audioData.silent });
        const bytes = Buffer.from(a.audioData.data, 'base64');
        expect(bytes.length).toBe(640);
        expect(a.audioData.silent).toBe(bytes[0] === 0);
        frames.add(a.audioData.data);
        if (i > 0) {
          expect(Date.parse(a.audioData.timestamp) - Date.parse(audio[i - 1]!.audioData.timestamp)).toBe(20);
          // consecutive frames of the recording, wrapping around
          const prev = Buffer.from(audio[i - 1]!.audioData.data, 'base64')[0]!;
          const expected = prev === 0 ? 5 : prev === 10 ? 1 : prev === 3 ? 0 : prev + 1;
          expect(bytes[0]).toBe(expected);
        }
      }
    }
    expect(frames.size).toBeGreaterThan(5);
    expect(serverClosed).toBe(3);
    expect(stats.sent).toBe(conns.reduce((n, c) => n + c.messages.length - 1, 0));
  });

  it('counts what the worker sends back by kind and reports its own lag', () => {
    expect(stats).toMatchObject({ audioIn: 3, stopIn: 3, otherIn: 3, closed: 0, dropped: 0 });
    expect(stats.maxLagMs).toBeGreaterThanOrEqual(0);
  });
});
