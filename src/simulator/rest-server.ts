// The Call Automation REST surface the SDK talks to, on node:http: HMAC-verified requests (401 like ACS
// otherwise), Repeatability-Request-ID replay, JSON error bodies in the SDK's CommunicationErrorResponse
// shape, and the JWKS the worker verifies callback and media tokens with (GET /calling/keys).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { verifyHmac } from './hmac.js';

export interface RestResult {
  readonly status: number;
  readonly body?: unknown;
}

export interface CallControlHandlers {
  answer(body: Record<string, unknown>): RestResult;
  /** POST /calling/callConnections — createCall (201, outbound-calls.ts). */
  createCall?(body: Record<string, unknown>): RestResult;
  /** POST /calling/callConnections:reject — declines an offered call (204). */
  reject?(body: Record<string, unknown>): RestResult;
  get(callConnectionId: string): RestResult;
  /** `terminate` = POST …:terminate (hang up for everyone), `delete` = DELETE (leave the call). */
  hangUp(callConnectionId: string, how: 'terminate' | 'delete'): RestResult;
  /** play, cancelAllMediaOperations, startMediaStreaming, stopMediaStreaming, startTranscription, … */
  mediaOperation(callConnectionId: string, operation: string, body: Record<string, unknown>): RestResult;
}

export interface RestServerOptions {
  readonly accessKey: string;
  readonly jwks: () => unknown;
  readonly handlers: CallControlHandlers;
  /** Counts requests refused for a bad signature (tests and the report read it). */
  readonly onUnauthorized?: (reason: string) => void;
}

const MAX_BODY = 1024 * 1024;
const REPEATABILITY_TTL_MS = 10 * 60 * 1000;
const ANSWER = '/calling/callConnections:answer';
// The path and body the SDK's rejectCall sends (@azure/communication-call-automation 1.6.0,
// generated/src/callAutomationApiClient.js rejectCallOperationSpec: POST, 204 on success, a
// CommunicationErrorResponse otherwise; RejectCallRequest {incomingCallContext (required), callRejectReason}).
const REJECT = '/calling/callConnections:reject';
const CREATE = '/calling/callConnections';
const CONNECTION = /^\/calling\/callConnections\/([^/:]+)(?::([A-Za-z]+))?$/;

export function acsError(status: number, code: string, message: string): RestResult {
  return { status, body: { error: { code, message } } };
}

function send(res: ServerResponse, r: RestResult): void {
  if (r.body === undefined) {
    res.writeHead(r.status, { 'content-length': '0' });
    res.end();
    return;
  }
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function createRestServer(opts: RestServerOptions): Server {
  const replay = new Map<string, RestResult>();

  function route(method: string, path: string, body: Record<string, unknown>): RestResult {
    const h = opts.handlers;
    if (path === ANSWER) return method === 'POST' ? h.answer(body) : acsError(405, 'MethodNotAllowed', 'use POST');
    if (path === CREATE && h.createCall) return method === 'POST' ? h.createCall(body) : acsError(405, 'MethodNotAllowed', 'use POST');
    if (path === REJECT && h.reject) return method === 'POST' ? h.reject(body) : acsError(405, 'MethodNotAllowed', 'use POST');
    const m = CONNECTION.exec(path);
    if (!m) return acsError(404, 'NotFound', `no route for ${method} ${path}`);
    const id = decodeURIComponent(m[1] as string);
    const op = m[2];
    if (!op) {
      if (method === 'GET') return h.get(id);
      if (method === 'DELETE') return h.hangUp(id, 'delete');
      return acsError(405, 'MethodNotAllowed', `${method} not allowed on a call connection`);
    }
    if (method !== 'POST') return acsError(405, 'MethodNotAllowed', 'use POST');
    if (op === 'terminate') return h.hangUp(id, 'terminate');
    return h.mediaOperation(id, op, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (method === 'GET' && url.pathname === '/calling/keys') return send(res, { status: 200, body: opts.jwks() });
    const raw = await readBody(req);
    if (raw === undefined) return send(res, acsError(413, 'RequestEntityTooLarge', 'body over 1 MiB'));
    const auth = verifyHmac({ method, url: req.url ?? '/', headers: req.headers, body: raw }, opts.accessKey);
    if (!auth.ok) {
      opts.onUnauthorized?.(auth.reason);
      return send(res, acsError(401, '401', `Denied by the resource provider: ${auth.reason}`));
    }
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return send(res, acsError(400, 'BadRequest', 'body must be a JSON object'));
        body = parsed as Record<string, unknown>;
      } catch {
        return send(res, acsError(400, 'BadRequest', 'body is not JSON'));
      }
    }
    const rid = req.headers['repeatability-request-id'];
    const key = typeof rid === 'string' && rid ? `${method} ${url.pathname} ${rid}` : undefined;
    const earlier = key ? replay.get(key) : undefined;
    if (earlier) return send(res, earlier);
    const result = route(method, url.pathname, body);
    if (key && result.status < 500) {
      replay.set(key, result);
      setTimeout(() => replay.delete(key), REPEATABILITY_TTL_MS).unref();
    }
    send(res, result);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, acsError(500, 'InternalServerError', (err as Error).message));
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
