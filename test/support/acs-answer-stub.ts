// A minimal stand-in for the Call Automation answer and terminate endpoints, driven by the real SDK.
// It checks the HMAC signature, the path and the answer body the worker must send, and returns the
// response shape the SDK expects. The simulator replaces it once it exists.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedAnswer {
  readonly callConnectionId: string;
  readonly body: {
    incomingCallContext: string;
    callbackUri: string;
    operationContext?: string;
    mediaStreamingOptions: Record<string, unknown>;
    transcriptionOptions?: Record<string, unknown>;
  };
}

export interface AcsAnswerStub {
  readonly url: string;
  readonly connectionString: string;
  readonly answers: RecordedAnswer[];
  readonly terminated: string[];
  /** Requests refused before reaching the answer logic (bad signature, path or body), with reasons. */
  readonly rejected: string[];
  /** The next `n` answer requests fail with `status`. */
  failNext(n: number, status: number): void;
  /** Holds the next answer request until the returned function is called (a slow ACS). */
  holdNext(): () => void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function checkAnswerBody(b: RecordedAnswer['body']): string | null {
  const m = b.mediaStreamingOptions ?? {};
  const t = b.transcriptionOptions ?? {};
  if (!b.incomingCallContext) return 'incomingCallContext missing';
  if (!/^https?:\/\/.+\/api\/callbacks\?callId=[^&]+&secret=[^&]+$/.test(b.callbackUri ?? '')) return 'callbackUri';
  if (!b.operationContext) return 'operationContext missing';
  if (m['transportType'] !== 'websocket' || m['contentType'] !== 'audio') return 'media transport';
  if (!/^wss?:\/\/.+\/ws\/media\?callId=[^&]+&secret=[^&]+$/.test(String(m['transportUrl']))) return 'media transportUrl';
  if (m['startMediaStreaming'] !== true || m['enableBidirectional'] !== true || m['enableDtmfTones'] !== true) return 'media flags';
  if (!['pcm16KMono', 'pcm24KMono'].includes(String(m['audioFormat']))) return 'audioFormat';
  if (!['mixed', 'unmixed'].includes(String(m['audioChannelType']))) return 'audioChannelType';
  // Transcription is its own subscription on /ws/transcription, requested only with a Cognitive Services endpoint.
  if (b.transcriptionOptions !== undefined) {
    const same = String(m['transportUrl']).replace('/ws/media?', '/ws/transcription?');
    if (t['transportUrl'] !== same || t['startTranscription'] !== true || t['enableIntermediateResults'] !== true || !t['locale']) {
      return 'transcription options';
    }
  }
  return null;
}

export async function startAcsAnswerStub(): Promise<AcsAnswerStub> {
  const key = randomBytes(32).toString('base64');
  const answers: RecordedAnswer[] = [];
  const terminated: string[] = [];
  const rejected: string[] = [];
  let failures = { n: 0, status: 500 };
  let hold: Promise<void> | null = null;

  const verifySignature = (req: IncomingMessage, body: string): boolean => {
    const hash = createHash('sha256').update(body).digest('base64');
    if (req.headers['x-ms-content-sha256'] !== hash) return false;
    const toSign = `${req.method}\n${req.url}\n${String(req.headers['x-ms-date'])};${String(req.headers.host)};${hash}`;
    const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(toSign).digest('base64');
    return req.headers.authorization === `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${sig}`;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (!verifySignature(req, body)) {
        rejected.push(`signature ${path}`);
        return send(res, 401, { error: { code: 'Unauthorized', message: 'bad signature' } });
      }
      if (req.method === 'POST' && path === '/calling/callConnections:answer' && hold) {
        const h = hold;
        hold = null;
        void h.then(() => handle(req, res, body, path));
        return;
      }
      handle(req, res, body, path);
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: string, path: string): void {
    if (req.method === 'POST' && path === '/calling/callConnections:answer') {
      if (failures.n > 0) {
        failures = { ...failures, n: failures.n - 1 };
        return send(res, failures.status, { error: { code: 'Unavailable', message: 'injected failure' } });
      }
      const parsed = JSON.parse(body) as RecordedAnswer['body'];
      const problem = checkAnswerBody(parsed);
      if (problem) {
        rejected.push(`answer ${problem}`);
        return send(res, 400, { error: { code: 'BadRequest', message: problem } });
      }
      const callConnectionId = randomUUID();
      answers.push({ callConnectionId, body: parsed });
      return send(res, 200, {
        callConnectionId,
        serverCallId: `srv-${callConnectionId}`,
        correlationId: randomUUID(),
        callbackUri: parsed.callbackUri,
        callConnectionState: 'connecting',
      });
    }
    const term = /^\/calling\/callConnections\/([^/:]+):terminate$/.exec(path);
    if (req.method === 'POST' && term?.[1]) {
      const id = decodeURIComponent(term[1]);
      // Like ACS: a call that is gone (or never existed) is a 404.
      if (!answers.some((x) => x.callConnectionId === id) || terminated.includes(id)) {
        return send(res, 404, { error: { code: 'NotFound', message: 'call not found' } });
      }
      terminated.push(id);
      return send(res, 204);
    }
    rejected.push(`path ${req.method} ${path}`);
    return send(res, 404, { error: { code: 'NotFound', message: 'unknown path' } });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    connectionString: `endpoint=${url}/;accesskey=${key}`,
    answers,
    terminated,
    rejected,
    failNext(n, status) {
      failures = { n, status };
    },
    holdNext() {
      let release = () => {};
      hold = new Promise<void>((r) => (release = r));
      return () => release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
