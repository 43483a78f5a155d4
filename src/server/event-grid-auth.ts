// Authentication of Event Grid deliveries to /api/incoming-call. Nothing authenticates an Event Grid
// webhook delivery unless the subscription does ("How to secure webhook endpoints and websocket
// connections", learn.microsoft.com/azure/communication-services/how-tos/call-automation/secure-webhook-endpoint,
// defers IncomingCall to Event Grid's webhook security): the subscription URL carries a secret query
// parameter `key` (bicep puts EVENTGRID_WEBHOOK_KEY there from Key Vault) and every delivery —
// the SubscriptionValidation handshake included — must present it. The check runs in onRequest, before
// the body is read: a request without the right key has no effect at all (nothing parsed, claimed,
// admitted, written or sent to ACS). 401 is what Event Grid does not retry ("Event Grid message
// delivery and retry": webhook 401 is dropped or dead-lettered), which is right for a forged delivery.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { voiceError } from '../domain/errors.js';

/** The query parameter of the subscription URL that carries the webhook key. */
export const WEBHOOK_KEY_PARAM = 'key';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The key in the request URL's query, or null (absent, repeated or unparseable). */
export function webhookKeyOf(rawUrl: string | undefined): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl ?? '/', 'http://localhost');
  } catch {
    return null;
  }
  const all = url.searchParams.getAll(WEBHOOK_KEY_PARAM);
  return all.length === 1 ? (all[0] as string) : null;
}

/**
 * An onRequest hook: with a key configured, refuses (401) every request whose `key` query parameter is
 * not exactly it, compared in constant time (fixed-length digests). Without a key it lets everything in
 * (development only; production mode requires the variable, and start-up warns once in dev).
 */
export function eventGridWebhookAuth(key: string | undefined, onRefused: (reason: 'missing' | 'mismatch') => void): (req: FastifyRequest) => Promise<void> {
  const expected = key ? digest(key) : null;
  return async (req) => {
    if (!expected) return;
    const given = webhookKeyOf(req.url);
    if (given === null) {
      onRefused('missing');
      throw voiceError('UNAUTHENTICATED', `Event Grid delivery without the webhook key (query parameter '${WEBHOOK_KEY_PARAM}')`);
    }
    if (!timingSafeEqual(digest(given), expected)) {
      onRefused('mismatch');
      throw voiceError('UNAUTHENTICATED', 'Event Grid delivery with a wrong webhook key');
    }
  };
}
