// POST /api/callbacks?callId&secret — ACS Call Automation events. Every request is authenticated
// (ACS JWT + per-call secret) before its body is read; events are de-duplicated by CloudEvent id and
// dispatched to the call's controller here, or forwarded to the replica that owns the call.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isVoiceError, voiceError } from '../domain/errors.js';
import { KNOWN_CALLBACK_TYPES } from '../domain/call-state-machine.js';
import type { CallbackEnvelope, SessionStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { verifyCallSecret, type AcsJwtVerifier } from './acs-auth.js';
import { CallbackParking, DEFAULT_PARKING, type ParkingConfig, type ParkingOutcome } from './callback-parking.js';
import { cloudEventBatch, toEnvelope, type CloudEvent } from './cloud-events.js';
import type { EdgeMetrics } from './edge-metrics.js';
import { zodReason } from './event-grid.js';

export type DispatchOutcome = 'dispatched' | 'late' | 'forwarded' | 'held';

export interface CallbackRouteDeps {
  readonly sessions: SessionStore;
  readonly verifier: AcsJwtVerifier;
  readonly dispatch: (env: CallbackEnvelope) => Promise<DispatchOutcome>;
  readonly metrics: EdgeMetrics;
  readonly workerId: string;
  readonly log: Logger;
  /**
   * Callbacks whose call secret cannot be checked now (the state store is unreachable, the call is
   * not held here) are parked and replayed (callback-parking.ts); without it they are answered 503.
   */
  readonly parking?: { readonly config?: ParkingConfig; readonly count: (outcome: ParkingOutcome, events: number) => void; readonly onCreated?: (p: CallbackParking) => void };
}

export const CALLBACK_BODY_LIMIT = 256 * 1024;

function queryString(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined;
}

/** Set by the onRequest hook on a request whose ACS token is good but whose call secret cannot be checked now. */
const UNCHECKED = Symbol('voice.callbackSecretUnchecked');

export function callbackRoutes(deps: CallbackRouteDeps): FastifyPluginAsync {
  const { metrics, sessions } = deps;

  /** Claims (de-duplicates) and dispatches each event of an authenticated batch. */
  const apply = async (callId: string, events: readonly CloudEvent[], log: Pick<Logger, 'debug'>) => {
    const counts = { accepted: 0, duplicates: 0, ignored: 0 };
    for (const ev of events) {
      const env = toEnvelope(callId, ev);
      const type = KNOWN_CALLBACK_TYPES.has(env.type) ? env.type : 'unknown';
      let first: boolean;
      try {
        first = await sessions.claim('event', ev.id, deps.workerId);
      } catch (err) {
        throw voiceError('BACKEND_UNAVAILABLE', 'cannot de-duplicate events now; retry', err);
      }
      if (!first) {
        counts.duplicates++;
        metrics.duplicates.inc({ source: 'callback' });
        metrics.callbacks.inc({ type, outcome: 'duplicate' });
        continue;
      }
      if (type === 'unknown') {
        counts.ignored++;
        metrics.callbacks.inc({ type, outcome: 'ignored' });
        log.debug({ callId, type: env.type.slice(0, 64) }, 'unknown callback type ignored');
        continue;
      }
      try {
        const outcome = await deps.dispatch(env);
        metrics.callbacks.inc({ type, outcome });
        counts.accepted++;
      } catch (err) {
        // Let ACS redeliver: forget the claim so the retry is not taken for a duplicate.
        await sessions.releaseClaim('event', ev.id).catch(() => undefined);
        metrics.callbacks.inc({ type, outcome: 'failed' });
        deps.log.error({ err, callId, type }, 'callback dispatch failed');
        throw voiceError('BACKEND_UNAVAILABLE', 'cannot route the event now; retry', err);
      }
    }
    return counts;
  };

  const parking = deps.parking
    ? new CallbackParking(
        {
          replay: async (callId, secret, events) => {
            await verifyCallSecret(sessions, callId, secret);
            await apply(callId, events, deps.log);
          },
          count: deps.parking.count,
          log: deps.log,
        },
        deps.parking.config ?? DEFAULT_PARKING,
      )
    : null;
  if (parking) deps.parking?.onCreated?.(parking);

  return async (app) => {
    app.post(
      '/api/callbacks',
      {
        bodyLimit: CALLBACK_BODY_LIMIT,
        // Authenticate before the body is parsed: an unauthenticated request costs no parsing and has no effect.
        onRequest: async (req) => {
          try {
            await deps.verifier.verify(req.headers.authorization);
          } catch (err) {
            metrics.authFailures.inc({ route: 'callbacks', reason: 'jwt' });
            req.log.warn({ reason: (err as Error).message }, 'callback rejected: ACS token');
            throw err;
          }
          try {
            await verifyCallSecret(sessions, queryString(req, 'callId'), queryString(req, 'secret'));
          } catch (err) {
            if (parking && !isVoiceError(err, 'UNAUTHENTICATED')) {
              // The store cannot answer: the batch is parked (no effect) until the secret can be checked.
              (req as unknown as Record<symbol, boolean>)[UNCHECKED] = true;
              return;
            }
            metrics.authFailures.inc({ route: 'callbacks', reason: 'secret' });
            req.log.warn({ callId: queryString(req, 'callId') }, isVoiceError(err, 'UNAUTHENTICATED') ? 'callback rejected: call secret' : 'callback refused: call secret cannot be checked now');
            if (isVoiceError(err)) throw err;
            throw voiceError('BACKEND_UNAVAILABLE', 'cannot check the call secret now', err);
          }
        },
      },
      async (req, reply) => {
        const callId = queryString(req, 'callId') as string;
        const parsed = cloudEventBatch.safeParse(req.body);
        if (!parsed.success) {
          metrics.callbacks.inc({ type: 'invalid', outcome: 'rejected' });
          throw voiceError('INVALID_PAYLOAD', `expected a JSON array of CloudEvents: ${zodReason(parsed.error)}`);
        }
        if ((req as unknown as Record<symbol, boolean>)[UNCHECKED] && parking) {
          if (!parking.park(callId, queryString(req, 'secret') as string, parsed.data)) throw voiceError('BACKEND_UNAVAILABLE', 'cannot check the call secret now; retry');
          return reply.code(202).send({ parked: parsed.data.length });
        }
        try {
          return reply.code(200).send(await apply(callId, parsed.data, req.log));
        } catch (err) {
          // Authenticated, but it cannot be routed now (the store is unreachable): parked and replayed
          // (events already applied are claimed and replay as duplicates).
          if (parking && isVoiceError(err, 'BACKEND_UNAVAILABLE') && parking.park(callId, queryString(req, 'secret') as string, parsed.data)) {
            return reply.code(202).send({ parked: parsed.data.length });
          }
          throw err;
        }
      },
    );
  };
}
