// GET /api/analytics?tenant=&day=YYYY-MM-DD — a tenant's call aggregates of one UTC day: the daily
// document and its hourly documents (see domain/analytics/call-aggregates.ts), one single-partition
// query. Operator-only (same auth as the transcript and console routes). 400 with the reason on bad
// input; a day without calls answers 200 with `day: null` and no hours.
import type { FastifyPluginAsync } from 'fastify';
import { isDay, isTenantId, type AggregateView } from '../domain/analytics/call-aggregates.js';
import { voiceError } from '../domain/errors.js';
import { operatorAuth } from './operator-auth.js';

export interface AnalyticsReader {
  read(tenant: string, day: string): Promise<{ day: AggregateView | null; hours: AggregateView[] }>;
}

export function analyticsRoutes(deps: { analytics: AnalyticsReader; apiToken: string | undefined }): FastifyPluginAsync {
  const auth = operatorAuth(deps.apiToken);
  return async (app) => {
    app.get<{ Querystring: { tenant?: unknown; day?: unknown } }>('/api/analytics', { preHandler: auth }, async (req) => {
      const { tenant, day } = req.query;
      if (typeof tenant !== 'string' || tenant === '') throw voiceError('BAD_REQUEST', 'tenant is required');
      if (!isTenantId(tenant)) throw voiceError('BAD_REQUEST', 'tenant must be 1-64 characters of A-Z a-z 0-9 _ . -');
      if (typeof day !== 'string' || day === '') throw voiceError('BAD_REQUEST', 'day is required (YYYY-MM-DD)');
      if (!isDay(day)) throw voiceError('BAD_REQUEST', 'day must be a UTC date YYYY-MM-DD');
      const r = await deps.analytics.read(tenant, day);
      return { tenant, day, daily: r.day, hours: r.hours };
    });
  };
}
