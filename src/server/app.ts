// The HTTP server: fastify for routes, the same node:http server for WebSocket upgrades, one port.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { isVoiceError } from '../domain/errors.js';
import type { ReadinessCheck } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../metrics.js';
import { counter } from '../metrics.js';
import type { Lifecycle } from './lifecycle.js';
import { operatorAuth } from './operator-auth.js';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface ServerDeps {
  readonly log: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
  readonly readiness: readonly ReadinessCheck[];
  readonly routes: readonly FastifyPluginAsync[];
  /** Path (without query) → upgrade handler. Unknown paths get 404 and the socket is destroyed. */
  readonly upgrades: ReadonlyMap<string, UpgradeHandler>;
}

export interface ServerConfig {
  readonly bodyLimitBytes: number;
  readonly readinessTimeoutMs: number;
  /** Guards /metrics like the operator routes (bearer token, or loopback only when unset). */
  readonly apiToken: string | undefined;
  /** Whole-request deadline: headers and body must arrive within it (slow-body defence). */
  readonly requestTimeoutMs?: number;
  /** TCP connections accepted at once (sockets included); more are dropped by the kernel accept path. */
  readonly maxConnections?: number;
}

async function checkWithTimeout(c: ReadinessCheck, ms: number): Promise<'ok' | 'degraded' | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${ms} ms`), ms);
  });
  try {
    return await Promise.race([c.check(), timeout]);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

export function buildServer(deps: ServerDeps, cfg: ServerConfig): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: cfg.bodyLimitBytes,
    return503OnClosing: true,
    // Node's own requestTimeout, checked every connectionsCheckingInterval (30 s by default), covers
    // the headers; the body deadline is enforced below (Node 20 lets a trickled body past it).
    requestTimeout: cfg.requestTimeoutMs ?? 10_000,
    http: { connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor((cfg.requestTimeoutMs ?? 10_000) / 4))) },
    // Close runs after the drain: whatever connection is still open by then is cut.
    forceCloseConnections: true,
  });
  const httpErrors = counter(deps.registry, 'voice_http_errors_total', 'HTTP requests answered with an error', [
    'route',
    'status',
  ]);

  app.setErrorHandler((err, req, reply) => {
    if (isVoiceError(err)) {
      httpErrors.inc({ route: req.routeOptions.url ?? 'unknown', status: String(err.status) });
      return reply.code(err.status).send({ error: err.code, message: err.message });
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    httpErrors.inc({ route: req.routeOptions.url ?? 'unknown', status: String(status) });
    if (status >= 500) req.log.error({ err }, 'request failed');
    const code = status === 413 ? 'VOICE_ERR_BODY_TOO_LARGE' : status < 500 ? 'VOICE_ERR_BAD_REQUEST' : 'VOICE_ERR_INTERNAL';
    return reply.code(status).send({ error: code, message: status < 500 ? e.message : 'internal error' });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    if (deps.lifecycle.draining) return reply.code(503).send({ status: 'draining', checks: {} });
    const results = await Promise.all(
      deps.readiness.map(async (c) => [c.name, await checkWithTimeout(c, cfg.readinessTimeoutMs)] as const),
    );
    const checks = Object.fromEntries(results);
    const failing = results.filter(([, r]) => r !== 'ok' && r !== 'degraded').map(([n]) => n);
    const degraded = results.filter(([, r]) => r === 'degraded').map(([n]) => n);
    if (failing.length > 0) return reply.code(503).send({ status: 'unavailable', failing, checks });
    return reply.code(200).send({ status: degraded.length > 0 ? 'degraded' : 'ok', degraded, checks });
  });

  // Metrics name call volumes and failure modes: operators only, never the public ingress.
  app.get('/metrics', { onRequest: operatorAuth(cfg.apiToken) }, async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(text);
  });

  if (cfg.maxConnections !== undefined && cfg.maxConnections > 0) app.server.maxConnections = cfg.maxConnections;
  const requestTimeoutMs = cfg.requestTimeoutMs ?? 10_000;
  app.server.headersTimeout = Math.min(app.server.headersTimeout, requestTimeoutMs);
  const slowBodies = counter(deps.registry, 'voice_http_slow_bodies_total', 'Requests cut off because the body did not arrive within HTTP_REQUEST_TIMEOUT_MS');
  // A body must arrive whole within the deadline: one trickled a byte at a time is answered 408 and
  // its connection closed, so a slow client cannot hold connections (and the handlers behind them).
  app.addHook('onRequest', (req, reply, done) => {
    if (req.raw.complete) return done();
    const timer = setTimeout(() => {
      if (req.raw.complete || reply.raw.headersSent) return;
      slowBodies.inc();
      const socket = req.raw.socket;
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroySoon();
    }, requestTimeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    req.raw.once('end', clear);
    req.raw.once('close', clear);
    done();
  });

  for (const r of deps.routes) void app.register(r);

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = deps.upgrades.get(path);
    if (!handler) {
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (deps.lifecycle.draining) {
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    handler(req, socket, head);
  });

  return app;
}
