// POST /internal/media-events — transcription results and tones of a call, sent by the replica that
// holds the call's transcription socket straight to the replica that holds its audio, when Redis
// (the usual path, media-forwarding.ts) is down or stalled. The sender presents the credentials its
// transcription socket was accepted with: the ACS token (verified as on every media upgrade) and the
// call secret (checked against the call's auth state, in memory on the owner). A replica that does
// not hold the call answers 404 at once, touching no store; the owner applies the event to the call's
// media session (200). Bad input: 400; bad credentials: 401.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { isVoiceError, voiceError } from '../domain/errors.js';
import type { CallbackEnvelope, SessionStore } from '../domain/ports.js';
import { verifyCallSecret, type AcsJwtVerifier } from './acs-auth.js';

export const PEER_MEDIA_PATH = '/internal/media-events';

const body = z.object({
  secret: z.string().min(1).max(256),
  event: z.object({
    callId: z.string().min(1).max(256),
    id: z.string().min(1).max(256),
    type: z.string().min(1).max(64),
    data: z.record(z.string(), z.unknown()),
    time: z.string().max(64).nullable(),
  }),
});

export interface PeerRouteDeps {
  readonly verifier: AcsJwtVerifier;
  readonly sessions: SessionStore;
  /** Does this replica hold the call's audio (a media session)? */
  readonly holds: (callId: string) => boolean;
  /** Applies a forwarded media envelope to the local call; false when it is not local. */
  readonly apply: (env: CallbackEnvelope) => boolean;
}

export function peerRoutes(deps: PeerRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.post(PEER_MEDIA_PATH, { bodyLimit: 16 * 1024 }, async (req, reply) => {
      const parsed = body.safeParse(req.body);
      if (!parsed.success) throw voiceError('INVALID_PAYLOAD', 'expected { secret, event }');
      const { secret, event } = parsed.data;
      if (!deps.holds(event.callId)) return reply.code(404).send({ held: false });
      await deps.verifier.verify(req.headers.authorization);
      try {
        await verifyCallSecret(deps.sessions, event.callId, secret);
      } catch (err) {
        if (isVoiceError(err)) throw err;
        throw voiceError('BACKEND_UNAVAILABLE', 'cannot check the call secret now', err);
      }
      if (!deps.apply(event)) return reply.code(404).send({ held: false });
      return reply.code(200).send({ applied: true });
    });
  };
}
