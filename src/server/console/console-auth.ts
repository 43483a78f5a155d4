// Operator sign-in for the console. POST /console/login exchanges the operator credential (API_TOKEN,
// compared in constant time; without API_TOKEN only loopback clients, like the other operator
// routes) for a random 256-bit session token. The store keeps only the token's SHA-256 with the
// role, under a sliding TTL (every request of the session pushes it back). The cookie is HttpOnly,
// SameSite=Strict, Path=/console and Secure — except over plain http to a loopback host (local dev;
// behind the Container Apps ingress the browser speaks https). State-changing routes also check
// that Origin (or Sec-Fetch-Site) names this very site, so a cross-site form cannot post to them.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleStore } from '../../domain/console/console-store.js';
import { voiceError } from '../../domain/errors.js';

export const SESSION_COOKIE = 'vw_console';
const LOOPBACK_ADDR = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

export interface OperatorSession {
  readonly hash: string;
  readonly role: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function cookieToken(req: FastifyRequest): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === SESSION_COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(v) ? v : null;
    }
  }
  return null;
}

/** True when the browser reaches us over plain http on a loopback host (the only case without Secure). */
function plainLocalHttp(req: FastifyRequest): boolean {
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim();
  return forwarded !== 'https' && LOOPBACK_HOST.test(req.headers.host ?? '');
}

export class ConsoleAuth {
  readonly #expected: Buffer | null;

  constructor(
    private readonly deps: { readonly store: ConsoleStore },
    private readonly cfg: { readonly apiToken: string | undefined; readonly sessionTtlS: number },
  ) {
    this.#expected = cfg.apiToken ? createHash('sha256').update(cfg.apiToken).digest() : null;
  }

  /** Same-site check for state-changing requests: Origin's host must be this Host (CSRF). */
  checkOrigin(req: FastifyRequest): void {
    const origin = req.headers.origin;
    const host = req.headers.host ?? '';
    if (typeof origin === 'string' && origin !== 'null') {
      let h = '';
      try {
        h = new URL(origin).host;
      } catch {
        h = '';
      }
      if (h === '' || h.toLowerCase() !== host.toLowerCase()) throw voiceError('FORBIDDEN', 'cross-site request refused');
      return;
    }
    if (req.headers['sec-fetch-site'] === 'same-origin') return;
    throw voiceError('FORBIDDEN', 'Origin header required');
  }

  /** Verifies the operator credential; on success stores a session and sets its cookie. */
  async login(req: FastifyRequest, reply: FastifyReply, credential: string): Promise<OperatorSession> {
    this.checkOrigin(req);
    if (this.#expected) {
      const given = createHash('sha256').update(credential).digest();
      if (!timingSafeEqual(given, this.#expected)) throw voiceError('UNAUTHENTICATED', 'operator credential refused');
    } else if (!LOOPBACK_ADDR.test(req.socket.remoteAddress ?? '')) {
      throw voiceError('FORBIDDEN', 'console sign-in from loopback only (API_TOKEN unset)');
    }
    const token = randomBytes(32).toString('base64url');
    const session = { hash: hashToken(token), role: 'operator' };
    await this.deps.store.putSession(session.hash, session.role, this.cfg.sessionTtlS);
    // A browser-session cookie: the server's sliding TTL decides when the session ends.
    reply.header('set-cookie', this.#cookie(req, token, null));
    return session;
  }

  /** The request's session (its TTL pushed back), or null. */
  async session(req: FastifyRequest): Promise<OperatorSession | null> {
    const token = cookieToken(req);
    if (!token) return null;
    const hash = hashToken(token);
    const role = await this.deps.store.touchSession(hash, this.cfg.sessionTtlS);
    return role ? { hash, role } : null;
  }

  /** Still valid (the stream's periodic check); pushes the TTL back like a request. */
  async stillValid(hash: string): Promise<boolean> {
    return (await this.deps.store.touchSession(hash, this.cfg.sessionTtlS)) !== null;
  }

  async logout(req: FastifyRequest, reply: FastifyReply): Promise<string | null> {
    this.checkOrigin(req);
    const token = cookieToken(req);
    reply.header('set-cookie', this.#cookie(req, '', 0));
    if (!token) return null;
    const hash = hashToken(token);
    await this.deps.store.dropSession(hash);
    return hash;
  }

  #cookie(req: FastifyRequest, value: string, maxAgeS: number | null): string {
    const secure = plainLocalHttp(req) ? '' : '; Secure';
    const age = maxAgeS === null ? '' : `; Max-Age=${maxAgeS}`;
    return `${SESSION_COOKIE}=${value}; Path=/console${age}; HttpOnly; SameSite=Strict${secure}`;
  }
}
