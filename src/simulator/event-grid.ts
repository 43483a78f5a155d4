// Event Grid as the worker sees it: the subscription validation handshake, then
// Microsoft.Communication.IncomingCall events in the Event Grid schema, retried on Event Grid's own
// schedule (10 s, 30 s, 1 min, 5 min; see delivery.ts), never on 400/401/403/413.
import { randomUUID } from 'node:crypto';
import { deliver, eventGridDelivery, type DeliveryResult } from './delivery.js';
import type { SimCall } from './sim-call.js';

export class SubscriptionValidationError extends Error {
  override readonly name = 'SubscriptionValidationError';
}

function topic(resourceId: string): string {
  return `/subscriptions/${resourceId}/resourceGroups/voice-sim/providers/Microsoft.Communication/communicationServices/voice-sim`;
}

/** Performs the validation handshake; throws SubscriptionValidationError unless the reply is right. */
export async function validateSubscription(target: string, resourceId: string): Promise<void> {
  const validationCode = randomUUID();
  const event = {
    id: randomUUID(),
    topic: topic(resourceId),
    subject: '',
    eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
    data: { validationCode, validationUrl: `https://rp-eastus.eventgrid.azure.net/eventsubscriptions/voice-sim/validate?id=${validationCode}` },
    dataVersion: '2',
    metadataVersion: '1',
    eventTime: new Date().toISOString(),
  };
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'SubscriptionValidation', 'aeg-subscription-name': 'VOICE-SIM', 'aeg-delivery-count': '0' },
      body: JSON.stringify([event]),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new SubscriptionValidationError(`subscription validation: ${target} unreachable (${(err as Error).message})`);
  }
  const text = await res.text();
  if (res.status !== 200) throw new SubscriptionValidationError(`subscription validation: expected 200, got ${res.status}: ${text.slice(0, 200)}`);
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    throw new SubscriptionValidationError(`subscription validation: reply is not JSON: ${text.slice(0, 200)}`);
  }
  const got = (reply as { validationResponse?: unknown } | null)?.validationResponse;
  if (got !== validationCode) throw new SubscriptionValidationError(`subscription validation: validationResponse ${JSON.stringify(got)} does not echo the validation code`);
}

export function incomingCallEvent(call: SimCall, resourceId: string): Record<string, unknown> {
  return {
    id: randomUUID(),
    topic: topic(resourceId),
    subject: `/caller/${call.caller.rawId}/recipient/${call.callee.rawId}`,
    eventType: 'Microsoft.Communication.IncomingCall',
    data: {
      to: call.callee,
      from: call.caller,
      serverCallId: call.serverCallId,
      callerDisplayName: call.caller.kind === 'phoneNumber' ? '' : `Sim Caller ${call.index}`,
      incomingCallContext: call.incomingCallContext,
      correlationId: call.correlationId,
    },
    dataVersion: '1.0',
    metadataVersion: '1',
    eventTime: new Date().toISOString(),
  };
}

/**
 * Delivers one IncomingCall (retried on Event Grid's schedule; `fastRetry` divides it by 100); with
 * `redeliver`, sends the same event once more after a 2xx.
 */
export async function deliverIncomingCall(
  target: string,
  call: SimCall,
  resourceId: string,
  redeliver: boolean,
  signal?: AbortSignal,
  fastRetry = false,
): Promise<DeliveryResult> {
  const body = JSON.stringify([incomingCallEvent(call, resourceId)]);
  const headers = (attempt: number) => ({ 'aeg-event-type': 'Notification', 'aeg-subscription-name': 'VOICE-SIM', 'aeg-delivery-count': String(attempt - 1) });
  const r = await deliver(target, body, headers, { ...eventGridDelivery(fastRetry), ...(signal ? { signal } : {}) });
  call.incomingCallDeliveries += r.attempts;
  if (redeliver && r.status >= 200 && r.status < 300) {
    const again = await deliver(target, body, () => headers(r.attempts + 1), { ...eventGridDelivery(fastRetry), maxAttempts: 1 });
    call.incomingCallDeliveries += again.attempts;
  }
  return r;
}
