// POST /api/incoming-call — Event Grid: the subscription validation handshake and IncomingCall.
// Each incoming call is claimed in the session store (by correlation id) before ACS is asked, so it
// is answered at most once across redeliveries and replicas. The reply to Event Grid waits for the
// answer only up to a short budget; a slow answer finishes in the background (tracked for SIGTERM).
import type { FastifyPluginAsync } from 'fastify';
import { voiceError } from '../domain/errors.js';
import type { SessionStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { EdgeMetrics } from './edge-metrics.js';
import {
  INCOMING_CALL_EVENT,
  VALIDATION_EVENT,
  eventAgeMs,
  eventGridBatch,
  incomingCallData,
  validationData,
  zodReason,
  type EventGridEvent,
  type IncomingCallData,
} from './event-grid.js';

export type AnswerOutcome = 'answered' | 'failed' | 'retry';

export interface IncomingCallRouteDeps {
  readonly sessions: SessionStore;
  readonly metrics: EdgeMetrics;
  readonly lifecycle: { readonly draining: boolean; track<T>(p: Promise<T>): Promise<T> };
  /** Admission: may this replica take one more call now? */
  readonly admit: () => boolean | Promise<boolean>;
  /** Answers one claimed call; never rejects. `claimId` is released by it when a retry may succeed. */
  readonly answer: (ev: EventGridEvent, data: IncomingCallData, claimId: string) => Promise<AnswerOutcome>;
  readonly now: () => number;
  readonly log: Logger;
}

export interface IncomingCallRouteConfig {
  readonly workerId: string;
  readonly maxAgeS: number;
  /** How long the reply waits for answers before returning 200 and letting them finish in the background. */
  readonly replyBudgetMs: number;
}

export const INCOMING_BODY_LIMIT = 256 * 1024;

function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
    timer.unref();
  });
  return Promise.race([p, budget]).finally(() => clearTimeout(timer));
}

export function incomingCallRoutes(deps: IncomingCallRouteDeps, cfg: IncomingCallRouteConfig): FastifyPluginAsync {
  const { metrics } = deps;
  return async (app) => {
    app.post('/api/incoming-call', { bodyLimit: INCOMING_BODY_LIMIT }, async (req, reply) => {
      const batch = eventGridBatch.safeParse(req.body);
      if (!batch.success) {
        metrics.incoming.inc({ result: 'invalid' });
        throw voiceError('INVALID_PAYLOAD', `expected a JSON array of Event Grid events: ${zodReason(batch.error)}`);
      }
      let validationResponse: string | null = null;
      const answers: Promise<AnswerOutcome>[] = [];
      for (const ev of batch.data) {
        if (ev.eventType === VALIDATION_EVENT) {
          const v = validationData.safeParse(ev.data);
          if (!v.success) throw voiceError('INVALID_PAYLOAD', `validation event: ${zodReason(v.error)}`);
          validationResponse = v.data.validationCode;
          req.log.info('Event Grid subscription validated');
          continue;
        }
        if (ev.eventType !== INCOMING_CALL_EVENT) {
          metrics.incoming.inc({ result: 'ignored' });
          continue;
        }
        const data = incomingCallData.safeParse(ev.data);
        if (!data.success) {
          metrics.incoming.inc({ result: 'invalid' });
          throw voiceError('INVALID_PAYLOAD', `IncomingCall: ${zodReason(data.error)}`);
        }
        const correlationId = data.data.correlationId ?? null;
        if (deps.lifecycle.draining) {
          metrics.incoming.inc({ result: 'draining' });
          throw voiceError('DRAINING', 'draining; deliver to another replica');
        }
        const age = eventAgeMs(ev, deps.now());
        if (age !== null && age > cfg.maxAgeS * 1000) {
          metrics.incoming.inc({ result: 'stale' });
          metrics.stale.inc();
          req.log.warn({ correlationId, ageMs: age }, 'stale IncomingCall not answered');
          continue;
        }
        const claimId = correlationId ?? ev.id;
        let claimed: boolean;
        try {
          claimed = await deps.sessions.claim('incoming-call', claimId, cfg.workerId);
        } catch (err) {
          throw voiceError('BACKEND_UNAVAILABLE', 'cannot claim the call now; retry', err);
        }
        if (!claimed) {
          metrics.incoming.inc({ result: 'duplicate' });
          metrics.duplicates.inc({ source: 'incoming-call' });
          req.log.info({ correlationId }, 'IncomingCall already claimed; not answering again');
          continue;
        }
        // Admission after the claim, so a redelivery of a call already taken stays a harmless duplicate.
        let admitted: boolean;
        try {
          admitted = await deps.admit();
        } catch (err) {
          await deps.sessions.releaseClaim('incoming-call', claimId).catch(() => undefined);
          throw voiceError('BACKEND_UNAVAILABLE', 'admission check failed; retry', err);
        }
        if (!admitted) {
          // Give the call back so another replica (a redelivery) can take it.
          await deps.sessions.releaseClaim('incoming-call', claimId).catch(() => undefined);
          metrics.incoming.inc({ result: 'overloaded' });
          req.log.warn({ correlationId }, 'IncomingCall refused: replica at capacity');
          throw voiceError('OVERLOADED', 'at capacity; deliver to another replica');
        }
        metrics.incoming.inc({ result: 'accepted' });
        answers.push(deps.lifecycle.track(deps.answer(ev, data.data, claimId)));
      }
      if (validationResponse !== null) return reply.code(200).send({ validationResponse });
      if (answers.length > 0) {
        const outcome = await within(Promise.all(answers), cfg.replyBudgetMs);
        // A transient failure seen in time: its claim is released, so ask Event Grid to deliver again.
        if (outcome !== 'pending' && outcome.includes('retry')) {
          throw voiceError('CALL_CONTROL_TRANSIENT', 'answering failed transiently; redeliver');
        }
      }
      return reply.code(200).send({ ok: true });
    });
  };
}
