// The operator console's routes. Public: the sign-in page, the static assets (code, no data) and
// POST /console/login. Everything else needs a session: GET /console (else a redirect to the sign-in
// page), the JSON views under /console/api (else 401) and the event stream /console/stream (else
// 401). The views come from the cache-aside module with their ETag; If-None-Match answers 304.
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ConversationStore } from '../../domain/ports.js';
import { consoleTurn } from '../../domain/console/console-events.js';
import { voiceError } from '../../domain/errors.js';
import { etagOf, type CacheAside, type CachedView } from './cache-aside.js';
import type { ConsoleAuth, OperatorSession } from './console-auth.js';
import type { SseHub } from './sse-hub.js';

const CALL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const LAST_EVENT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const ASSETS: Readonly<Record<string, string>> = {
  'console.js': 'text/javascript; charset=utf-8',
  'login.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const LoginBody = z.object({ token: z.string().max(4096) }).strict();

declare module 'fastify' {
  interface FastifyRequest {
    operator?: OperatorSession;
  }
}

export interface ConsoleRouteDeps {
  readonly auth: ConsoleAuth;
  readonly cache: CacheAside;
  readonly hub: SseHub;
  readonly conversations: ConversationStore;
  /** A stream opened / closed (gauges). */
  readonly onStream?: (open: boolean) => void;
}

function readAsset(name: string): Buffer {
  return readFileSync(new URL(`./assets/${name}`, import.meta.url));
}

export function consoleRoutes(deps: ConsoleRouteDeps): FastifyPluginAsync {
  const files = new Map<string, Buffer>();
  const asset = (name: string) => {
    let b = files.get(name);
    if (!b) files.set(name, (b = readAsset(name)));
    return b;
  };
  const page = (reply: FastifyReply, name: string) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(asset(name));
  const requireSession = async (req: FastifyRequest) => {
    const s = await deps.auth.session(req);
    if (!s) throw voiceError('UNAUTHENTICATED', 'console session required: sign in at /console/login');
    req.operator = s;
  };
  const view = (req: FastifyRequest, reply: FastifyReply, v: CachedView) => {
    reply.header('etag', v.etag).header('cache-control', 'private, no-cache').header('content-type', 'application/json; charset=utf-8');
    if (req.headers['if-none-match'] === v.etag) return reply.code(304).send();
    return reply.send(v.body);
  };

  return async (app) => {
    app.get('/console', async (req, reply) => {
      if (!(await deps.auth.session(req))) return reply.redirect('/console/login', 302);
      return page(reply, 'console.html');
    });
    app.get('/console/login', async (_req, reply) => page(reply, 'login.html'));
    app.get<{ Params: { file: string } }>('/console/assets/:file', async (req, reply) => {
      const type = ASSETS[req.params.file];
      if (!type) throw voiceError('NOT_FOUND', 'no such asset');
      return reply.header('content-type', type).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(asset(req.params.file));
    });

    app.post('/console/login', async (req, reply) => {
      const body = LoginBody.safeParse(req.body);
      if (!body.success) throw voiceError('BAD_REQUEST', 'body must be {"token": "<operator credential>"}');
      const s = await deps.auth.login(req, reply, body.data.token);
      return reply.header('cache-control', 'no-store').send({ role: s.role });
    });
    app.post('/console/logout', async (req, reply) => {
      const hash = await deps.auth.logout(req, reply);
      if (hash) deps.hub.closeSession(hash);
      return reply.code(204).send();
    });

    app.get('/console/api/session', { preHandler: requireSession }, async (req) => ({ role: req.operator?.role }));
    app.get('/console/api/calls', { preHandler: requireSession }, async (req, reply) => view(req, reply, await deps.cache.get('active-calls')));
    app.get('/console/api/summary', { preHandler: requireSession }, async (req, reply) => view(req, reply, await deps.cache.get('summary')));
    app.get('/console/api/campaigns', { preHandler: requireSession }, async (req, reply) => view(req, reply, await deps.cache.get('campaigns')));
    app.get<{ Params: { callId: string } }>('/console/api/calls/:callId/transcript', { preHandler: requireSession }, async (req, reply) => {
      if (!CALL_ID.test(req.params.callId)) throw voiceError('BAD_REQUEST', 'callId has invalid characters');
      const state = await deps.conversations.getState(req.params.callId);
      const turns = state.history.filter((t) => t.speaker !== 'system').map(consoleTurn);
      const body = JSON.stringify({ callId: state.callId, turnCount: state.turnCount, turns });
      return view(req, reply, { body, etag: etagOf(body) });
    });

    app.get('/console/stream', { preHandler: requireSession }, async (req, reply) => {
      const raw = req.headers['last-event-id'];
      const lastEventId = typeof raw === 'string' && LAST_EVENT_ID.test(raw) ? raw : null;
      reply.hijack();
      deps.onStream?.(true);
      deps.hub.open(reply.raw, req.operator?.hash ?? '', lastEventId, () => deps.onStream?.(false));
    });
  };
}
