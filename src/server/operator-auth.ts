// Operator authentication for everything that is not ACS: the REST routes (transcripts, profiles) and
// /metrics. With API_TOKEN set, `Authorization: Bearer <token>` compared in constant time; without it,
// only loopback clients are served (a sidecar or `kubectl port-forward`-style access, never the ingress).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { voiceError } from '../domain/errors.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function operatorAuth(apiToken: string | undefined): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = apiToken ? createHash('sha256').update(apiToken).digest() : null;
  return async (req) => {
    if (!expected) {
      if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) throw voiceError('FORBIDDEN', 'operator API reachable from loopback only (API_TOKEN unset)');
      return;
    }
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/i.exec(h);
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    if (!m || !timingSafeEqual(given, expected)) throw voiceError('UNAUTHENTICATED', 'operator bearer token required');
  };
}
