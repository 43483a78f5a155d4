// A minimal worker for simulator tests: an Event Grid endpoint that validates and answers through the
// real CallAutomationClient (bidirectional media + transcription on one socket), a callback endpoint,
// and a media WebSocket that verifies the ACS JWT, records every message, replies to each final
// transcript / DTMF '#' with paced audio, and sends stopAudio when the caller talks over it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CallAutomationClient, createOutboundAudioData, createOutboundStopAudioData } from '@azure/communication-call-automation';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';

export interface ReceiverCall {
  readonly callId: string;
  readonly audioFormat: 'pcm16KMono' | 'pcm24KMono';
  readonly channels: 'mixed' | 'unmixed';
  incomingCallContext: string;
  callConnectionId: string | undefined;
  readonly mediaMessages: string[];
  readonly mediaHeaders: Record<string, string | undefined>[];
  readonly callbacks: Record<string, unknown>[];
  repliesSent: number;
  stopAudioSent: number;
}

export interface TestReceiver {
  readonly url: string;
  readonly incomingCallUrl: string;
  readonly calls: Map<string, ReceiverCall>;
  readonly eventGridEvents: unknown[];
  /** Requests refused for a bad token, by kind. */
  readonly refused: { callbacks: number; media: number };
  answerErrors: number;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  readonly acsConnectionString: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly resourceId: string;
  readonly audioFormat?: 'pcm16KMono' | 'pcm24KMono';
  readonly replyFrames?: number;
  /** Alternate per call: every 2nd call at 24 kHz, every 3rd unmixed (overrides audioFormat). */
  readonly vary?: boolean;
  /** Answer this many IncomingCall deliveries with 503 first (Event Grid must redeliver them). */
  readonly rejectFirstDeliveries?: number;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function startTestReceiver(opts: ReceiverOptions): Promise<TestReceiver> {
  const endpoint = new URL(/endpoint=([^;]+)/i.exec(opts.acsConnectionString)?.[1] ?? 'https://invalid');
  const client = new CallAutomationClient(opts.acsConnectionString, { allowInsecureConnection: endpoint.protocol === 'http:' });
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl));
  const verify = async (auth: string | undefined) => {
    if (!auth?.startsWith('Bearer ')) throw new Error('no bearer');
    await jwtVerify(auth.slice(7), jwks, { issuer: opts.issuer, audience: opts.resourceId, algorithms: ['RS256'] });
  };
  const replyFrames = opts.replyFrames ?? 50;
  const toneFrame = (bytes: number) => {
    const tone = Buffer.alloc(bytes);
    for (let i = 0; i < bytes / 2; i++) tone.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / (bytes * 25))), i * 2);
    return tone.toString('base64');
  };
  const frames = { pcm16KMono: toneFrame(640), pcm24KMono: toneFrame(960) };
  let rejectLeft = opts.rejectFirstDeliveries ?? 0;
  let answered = 0;
  const calls = new Map<string, ReceiverCall>();
  const byContext = new Set<string>();
  const eventGridEvents: unknown[] = [];
  const refused = { callbacks: 0, media: 0 };
  let baseUrl = '';
  const state = { answerErrors: 0 };

  async function answer(ctx: string): Promise<void> {
    const callId = randomUUID();
    const n = answered++;
    const format = opts.vary ? (n % 2 === 1 ? 'pcm24KMono' : 'pcm16KMono') : (opts.audioFormat ?? 'pcm16KMono');
    const channels = opts.vary && n % 3 === 0 ? 'unmixed' : 'mixed';
    const call: ReceiverCall = { callId, audioFormat: format, channels, incomingCallContext: ctx, callConnectionId: undefined, mediaMessages: [], mediaHeaders: [], callbacks: [], repliesSent: 0, stopAudioSent: 0 };
    calls.set(callId, call);
    const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws/media?callId=${callId}`;
    try {
      const r = await client.answerCall(ctx, `${baseUrl}/api/callbacks?callId=${callId}`, {
        mediaStreamingOptions: { transportUrl: wsUrl, transportType: 'websocket', contentType: 'audio', audioChannelType: channels, startMediaStreaming: true, enableBidirectional: true, audioFormat: format, enableDtmfTones: true },
        transcriptionOptions: { transportUrl: wsUrl, transportType: 'websocket', locale: 'en-US', startTranscription: true, enableIntermediateResults: true },
        // Without an Azure AI services endpoint ACS answers TranscriptionFailed (8522); one socket for both is allowed.
        callIntelligenceOptions: { cognitiveServicesEndpoint: 'https://sim-ai.cognitiveservices.azure.com/' },
        operationContext: `answer-${callId}`,
      });
      call.callConnectionId = r.callConnectionProperties.callConnectionId;
    } catch {
      state.answerErrors++;
    }
  }

  function media(ws: WebSocket, call: ReceiverCall): void {
    const frameB64 = frames[call.audioFormat];
    let replying: NodeJS.Timeout | undefined;
    const stopReply = () => {
      if (replying) clearInterval(replying);
      replying = undefined;
    };
    const reply = () => {
      stopReply();
      call.repliesSent++;
      let n = 0;
      replying = setInterval(() => {
        if (n++ >= replyFrames || ws.readyState !== ws.OPEN) return stopReply();
        ws.send(createOutboundAudioData(frameB64));
      }, 20);
    };
    ws.on('error', () => undefined);
    ws.on('close', stopReply);
    ws.on('message', (data) => {
      const text = data.toString();
      call.mediaMessages.push(text);
      let m: { kind?: string; audioData?: { silent?: boolean }; transcriptionData?: { resultStatus?: string }; dtmfData?: { data?: string } };
      try {
        m = JSON.parse(text);
      } catch {
        return;
      }
      if (m.kind === 'AudioData' && m.audioData?.silent === false && replying) {
        stopReply();
        call.stopAudioSent++;
        ws.send(createOutboundStopAudioData());
      } else if (m.kind === 'TranscriptionData' && m.transcriptionData?.resultStatus === 'Final') reply();
      else if (m.kind === 'DtmfData' && m.dtmfData?.data === '#') reply();
    });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const done = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.method === 'POST' && url.pathname === '/api/incoming-call') {
      readJson(req).then(
        (events) => {
          const list = events as { eventType: string; data: { validationCode?: string; incomingCallContext?: string } }[];
          eventGridEvents.push(...list);
          const first = list[0];
          if (req.headers['aeg-event-type'] === 'SubscriptionValidation' && first) return done(200, { validationResponse: first.data.validationCode });
          if (rejectLeft > 0) {
            rejectLeft--;
            return done(503, { error: 'busy' });
          }
          for (const e of list) {
            const ctx = e.data.incomingCallContext;
            if (e.eventType !== 'Microsoft.Communication.IncomingCall' || !ctx || byContext.has(ctx)) continue;
            byContext.add(ctx);
            void answer(ctx);
          }
          done(200);
        },
        () => done(400, { error: 'bad json' }),
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/callbacks') {
      const call = calls.get(url.searchParams.get('callId') ?? '');
      verify(req.headers.authorization)
        .then(() => readJson(req))
        .then(
          (events) => {
            if (!call) return done(404);
            call.callbacks.push(...(events as Record<string, unknown>[]));
            done(200);
          },
          () => {
            refused.callbacks++;
            done(401);
          },
        );
      return;
    }
    done(404);
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://x');
    const call = calls.get(url.searchParams.get('callId') ?? '');
    verify(req.headers.authorization).then(
      () => {
        if (url.pathname !== '/ws/media' || !call) return void socket.destroy();
        call.mediaHeaders.push({ connectionId: req.headers['x-ms-call-connection-id'] as string | undefined, correlationId: req.headers['x-ms-call-correlation-id'] as string | undefined });
        wss.handleUpgrade(req, socket, head, (ws) => media(ws, call));
      },
      () => {
        refused.media++;
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    incomingCallUrl: `${baseUrl}/api/incoming-call`,
    calls,
    eventGridEvents,
    refused,
    get answerErrors() {
      return state.answerErrors;
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
