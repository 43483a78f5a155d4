// POST /api/incoming-call — Event Grid: the subscription validation handshake and IncomingCall.
// Authenticated first (webhook key in the subscription URL, see event-grid-auth.ts): a delivery without
// the key has no effect. Each incoming call is claimed in the session store (by correlation id) before
// ACS is asked, so it is answered at most once across redeliveries and replicas.
//
// What Event Grid does with our reply ("Event Grid message delivery and retry",
// learn.microsoft.com/azure/event-grid/delivery-and-retry): any 2xx ends delivery; 400, 401, 403 and
// 413 are never retried (dead-lettered or dropped); anything else is retried after ~10 s, 30 s, 1 min,
// 5 min, ... — far too late for a ringing call. So every event this replica accepts gets 200 at once
// and the answer is retried here, in process (a transient ACS failure is retried ANSWER_RETRY_DELAYS_MS
// apart), never by asking Event Grid for a redelivery. The claim store being down does not refuse the
// call either (a local claim stands in). 503 is left only for calls this replica cannot take (draining,
// at capacity), where a redelivery to another replica is the only chance.
//
// Redeliveries: one that arrives after ~10 s for a call already answered or being answered is a
// duplicate (200, no effect); one for a call whose answers all failed transiently (claim released) is
// answered if it is younger than INCOMING_CALL_MAX_AGE_S; one after 30 s or more (the second retry
// lands ~40 s after the event) is older than that by default: 200, not answered, counted as stale.
import type { FastifyPluginAsync } from 'fastify';
import { voiceError } from '../domain/errors.js';
import type { SessionStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { EdgeMetrics } from './edge-metrics.js';
import { eventGridWebhookAuth } from './event-grid-auth.js';
import {
  INCOMING_CALL_EVENT,
  VALIDATION_EVENT,
  eventAgeMs,
  eventGridBatch,
  incomingCallData,
  partyOf,
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
  /**
   * Cluster-wide slot (tenant cap, global cap, rate limit; call-admission.ts), reserved after the
   * claim and the per-replica check, before anything slow. A refusal is final for every replica:
   * the call is declined with `reject` (ACS rejectCall, reason busy), never left ringing.
   */
  readonly slots?: {
    reserve(claimId: string, calledNumber: string | null): Promise<{ readonly admitted: boolean; readonly refused?: string }>;
    /** The call was not answered after all (failed, given up): free its reservation. */
    releaseClaim(claimId: string): Promise<void>;
  };
  /** Declines an incoming call (ACS rejectCall); absent: a refused call is answered 503 as before. */
  readonly reject?: (incomingCallContext: string) => Promise<void>;
  /** Answers one claimed call; never rejects. 'retry' = a transient failure (the claim is kept). */
  readonly answer: (ev: EventGridEvent, data: IncomingCallData, claimId: string) => Promise<AnswerOutcome>;
  readonly now: () => number;
  readonly log: Logger;
}

export interface IncomingCallRouteConfig {
  readonly workerId: string;
  readonly maxAgeS: number;
  /** How long the reply waits for answers before returning 200 and letting them finish in the background. */
  readonly replyBudgetMs: number;
  /** EVENTGRID_WEBHOOK_KEY; undefined = deliveries are not authenticated (dev only). */
  readonly webhookKey: string | undefined;
  /** Delays between in-process answer attempts after a transient failure (default ANSWER_RETRY_DELAYS_MS). */
  readonly answerRetryDelaysMs?: readonly number[];
}

export const INCOMING_BODY_LIMIT = 256 * 1024;
/** In-process answer retries after a transient failure: well inside the ringing time, unlike Event Grid's 10 s. */
export const ANSWER_RETRY_DELAYS_MS: readonly number[] = [250, 1000, 2000];
/** Claims held in memory while the shared claim store cannot answer (bounded; each lives maxAgeS). */
const MAX_LOCAL_CLAIMS = 10_000;

function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
    timer.unref();
  });
  return Promise.race([p, budget]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function incomingCallRoutes(deps: IncomingCallRouteDeps, cfg: IncomingCallRouteConfig): FastifyPluginAsync {
  const { metrics } = deps;
  const retryDelays = cfg.answerRetryDelaysMs ?? ANSWER_RETRY_DELAYS_MS;
  const auth = eventGridWebhookAuth(cfg.webhookKey, (reason) => {
    metrics.authFailures.inc({ route: 'incoming-call', reason });
    metrics.incoming.inc({ result: 'unauthenticated' });
  });
  /** Claim ids taken locally while the claim store was down (id → expiry ms). */
  const localClaims = new Map<string, number>();

  const claimLocally = (claimId: string): boolean => {
    const now = deps.now();
    for (const [id, until] of localClaims) {
      if (until > now && localClaims.size < MAX_LOCAL_CLAIMS) break;
      localClaims.delete(id);
    }
    const until = localClaims.get(claimId);
    if (until !== undefined && until > now) return false;
    localClaims.set(claimId, now + cfg.maxAgeS * 1000);
    return true;
  };

  const claim = async (claimId: string): Promise<boolean> => {
    if (localClaims.has(claimId) && !claimLocally(claimId)) return false;
    try {
      return await deps.sessions.claim('incoming-call', claimId, cfg.workerId);
    } catch (err) {
      // The call is answerable here: a local claim keeps redeliveries to this replica harmless, and
      // ACS itself refuses a second answer of the same incomingCallContext.
      deps.log.warn({ err }, 'claim store unavailable; claiming the IncomingCall locally');
      metrics.incoming.inc({ result: 'claimed_locally' });
      return claimLocally(claimId);
    }
  };

  /** Answers, retrying transient failures in process; on giving up the claim is released for a redelivery. */
  const answerWithRetry = async (ev: EventGridEvent, data: IncomingCallData, claimId: string): Promise<AnswerOutcome> => {
    let outcome = await deps.answer(ev, data, claimId);
    for (const delay of retryDelays) {
      if (outcome !== 'retry' || deps.lifecycle.draining) break;
      await sleep(delay);
      metrics.answers.inc({ outcome: 'retried' });
      outcome = await deps.answer(ev, data, claimId);
    }
    if (outcome === 'retry') {
      deps.log.warn({ correlationId: data.correlationId ?? null }, 'answer failed transiently after retries; claim released for a redelivery');
      localClaims.delete(claimId);
      await deps.sessions.releaseClaim('incoming-call', claimId).catch(() => undefined);
    }
    return outcome;
  };

  return async (app) => {
    app.post('/api/incoming-call', { bodyLimit: INCOMING_BODY_LIMIT, onRequest: auth }, async (req, reply) => {
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
        if (!(await claim(claimId))) {
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
          // Admission has its own Redis fallback (the local ceiling); an error past it is not a reason to lose the call.
          req.log.warn({ err, correlationId }, 'admission check failed; admitting');
          admitted = true;
        }
        if (!admitted) {
          // Give the call back so another replica (a redelivery) can take it.
          localClaims.delete(claimId);
          await deps.sessions.releaseClaim('incoming-call', claimId).catch(() => undefined);
          metrics.incoming.inc({ result: 'overloaded' });
          req.log.warn({ correlationId }, 'IncomingCall refused: replica at capacity');
          throw voiceError('OVERLOADED', 'at capacity; deliver to another replica');
        }
        if (deps.slots) {
          let slot: { readonly admitted: boolean; readonly refused?: string };
          try {
            slot = await deps.slots.reserve(claimId, partyOf(data.data.to).rawId || null);
          } catch (err) {
            // Past the slots' own Redis fallback (the replica share): not a reason to lose the call.
            req.log.warn({ err, correlationId }, 'slot reservation failed; admitting without a slot');
            slot = { admitted: true };
          }
          if (!slot.admitted) {
            metrics.incoming.inc({ result: `refused_${slot.refused ?? 'slots'}` });
            if (deps.reject) {
              // Declined the way ACS expects (rejectCall, busy), never left ringing. The claim is
              // kept: a redelivery of a declined call stays a harmless duplicate.
              req.log.info({ correlationId, refused: slot.refused }, 'IncomingCall declined (busy): no admission slot');
              await deps.reject(data.data.incomingCallContext).catch((err: unknown) => req.log.warn({ err, correlationId }, 'reject failed'));
              continue;
            }
            localClaims.delete(claimId);
            await deps.sessions.releaseClaim('incoming-call', claimId).catch(() => undefined);
            throw voiceError('OVERLOADED', 'no admission slot; deliver to another replica');
          }
        }
        metrics.incoming.inc({ result: 'accepted' });
        const slots = deps.slots;
        const answered = answerWithRetry(ev, data.data, claimId);
        answers.push(
          deps.lifecycle.track(
            slots
              ? answered.then(async (outcome) => {
                  if (outcome !== 'answered') await slots.releaseClaim(claimId);
                  return outcome;
                })
              : answered,
          ),
        );
      }
      if (validationResponse !== null) return reply.code(200).send({ validationResponse });
      // Accepted: 200 whatever the answer's fate (retried here); wait a little so a quick answer lands first.
      if (answers.length > 0) await within(Promise.all(answers), cfg.replyBudgetMs);
      return reply.code(200).send({ ok: true });
    });
  };
}
