// Campaign routes (issue 18 item 5), operator-only (operatorAuth, like the transcript and console
// routes): POST /api/campaigns (zod-validated; 400 with the reason, never echoing a phone number),
// GET /api/campaigns/:id (status, cached 30 s in Redis; x-campaign-source says where it came from),
// POST /api/campaigns/:id/pause | resume | cancel.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { voiceError } from '../domain/errors.js';
import type { CampaignAction, CampaignService } from './campaign-service.js';
import { operatorAuth } from './operator-auth.js';

const E164 = /^\+[1-9]\d{6,14}$/;
const ID = /^[A-Za-z0-9._-]{1,64}$/;

export const CAMPAIGN_BODY = z
  .object({
    id: z.string().regex(ID, 'id: 1-64 of A-Z a-z 0-9 . _ -').optional(),
    tenant: z.string().regex(ID, 'tenant: 1-64 of A-Z a-z 0-9 . _ -'),
    targets: z.array(z.string().regex(E164, 'every target must be E.164 (+ and 7-15 digits)')).min(1).max(10_000),
    window: z.object({ start: z.coerce.date(), end: z.coerce.date() }).strict().refine((w) => w.end > w.start, 'window.end must be after window.start'),
    ratePerMinute: z.number().positive().max(100_000),
    concurrency: z.number().int().min(1).max(10_000),
    retries: z.object({ max: z.number().int().min(0).max(10), backoffMs: z.number().int().min(0).max(86_400_000) }).strict().default({ max: 0, backoffMs: 0 }),
  })
  .strict();

/** The first problem, by path; values (phone numbers) never appear in it. */
function reasonOf(err: z.ZodError): string {
  const i = err.issues[0];
  return i ? `${i.path.map(String).join('.') || 'body'}: ${i.message}` : 'invalid body';
}

export function campaignRoutes(deps: { service: CampaignService; tenants: (id: string) => boolean; apiToken: string | undefined; enabled: boolean }): FastifyPluginAsync {
  const auth = operatorAuth(deps.apiToken);
  return async (app) => {
    app.post('/api/campaigns', { preHandler: auth }, async (req, reply) => {
      if (!deps.enabled) throw voiceError('CONFLICT', 'campaigns need OUTBOUND_CALLER_ID (the ACS number calls come from)');
      const parsed = CAMPAIGN_BODY.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: 'VOICE_ERR_BAD_REQUEST', reason: reasonOf(parsed.error) });
      const b = parsed.data;
      if (!deps.tenants(b.tenant)) return reply.code(400).send({ error: 'VOICE_ERR_BAD_REQUEST', reason: 'tenant: unknown tenant' });
      try {
        const c = await deps.service.create({
          id: b.id ?? randomUUID(),
          tenant: b.tenant,
          targets: b.targets,
          window: { start: b.window.start.getTime(), end: b.window.end.getTime() },
          ratePerMinute: b.ratePerMinute,
          concurrency: b.concurrency,
          retries: b.retries,
        });
        return reply.code(201).send({ id: c.spec.id, status: c.status, targets: c.targets.length });
      } catch (err) {
        if ((err as { conflict?: boolean }).conflict) throw voiceError('CONFLICT', 'a campaign with this id exists');
        throw err;
      }
    });
    app.get<{ Params: { id: string } }>('/api/campaigns/:id', { preHandler: auth }, async (req, reply) => {
      if (!ID.test(req.params.id)) throw voiceError('BAD_REQUEST', 'campaign id has invalid characters');
      const s = await deps.service.status(req.params.id);
      if (!s) throw voiceError('NOT_FOUND', 'no such campaign');
      return reply.header('x-campaign-source', s.source).send(s.body);
    });
    app.post<{ Params: { id: string; action: string } }>('/api/campaigns/:id/:action', { preHandler: auth }, async (req, reply) => {
      const { id, action } = req.params;
      if (!ID.test(id)) throw voiceError('BAD_REQUEST', 'campaign id has invalid characters');
      if (action !== 'pause' && action !== 'resume' && action !== 'cancel') throw voiceError('NOT_FOUND', 'unknown campaign action');
      const r = await deps.service.control(id, action as CampaignAction);
      if (r === 'not-found') throw voiceError('NOT_FOUND', 'no such campaign');
      return reply.code(r === 'forwarded' ? 202 : 200).send({ id, action, result: r });
    });
  };
}
