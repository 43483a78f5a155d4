// Event Grid payloads the incoming-call route accepts: the subscription validation handshake and
// Microsoft.Communication.IncomingCall, validated with zod. Identifiers are normalised and masked here.
import { z } from 'zod';

export const VALIDATION_EVENT = 'Microsoft.EventGrid.SubscriptionValidationEvent';
export const INCOMING_CALL_EVENT = 'Microsoft.Communication.IncomingCall';

const eventGridEvent = z.looseObject({
  id: z.string().min(1).max(256),
  eventType: z.string().min(1).max(256),
  eventTime: z.string().max(64).optional(),
  subject: z.string().max(1024).optional(),
  data: z.record(z.string(), z.unknown()),
});

/** What Event Grid POSTs: an array of events (usually one). */
export const eventGridBatch = z.array(eventGridEvent).min(1).max(100);
export type EventGridEvent = z.output<typeof eventGridEvent>;

export const validationData = z.looseObject({
  validationCode: z.string().min(1).max(512),
  validationUrl: z.string().optional(),
});

const identifier = z.looseObject({
  kind: z.string().optional(),
  rawId: z.string().max(512).optional(),
  phoneNumber: z.looseObject({ value: z.string().max(64) }).optional(),
  communicationUser: z.looseObject({ id: z.string().max(512) }).optional(),
});

export const incomingCallData = z.looseObject({
  to: identifier,
  from: identifier,
  incomingCallContext: z.string().min(1).max(64 * 1024),
  correlationId: z.string().min(1).max(256).optional(),
  serverCallId: z.string().max(1024).optional(),
  callerDisplayName: z.string().max(256).optional(),
});
export type IncomingCallData = z.output<typeof incomingCallData>;

export interface Party {
  readonly rawId: string;
  /** Lower camel case: phoneNumber, communicationUser, microsoftTeamsUser, unknown. */
  readonly kind: string;
  /** Safe for logs and snapshots: phone numbers keep only their last two digits. */
  readonly masked: string;
}

export function partyOf(id: z.output<typeof identifier>): Party {
  const rawKind = id.kind ?? (id.phoneNumber ? 'phoneNumber' : id.communicationUser ? 'communicationUser' : 'unknown');
  const kind = rawKind.charAt(0).toLowerCase() + rawKind.slice(1);
  const rawId = id.rawId ?? (id.phoneNumber ? `4:${id.phoneNumber.value}` : (id.communicationUser?.id ?? ''));
  return { rawId, kind, masked: maskRawId(rawId, kind) };
}

export function maskRawId(rawId: string, kind: string): string {
  if (kind === 'phoneNumber' || rawId.startsWith('4:')) {
    const digits = rawId.replace(/\D/g, '');
    return `4:+***${digits.slice(-2)}`;
  }
  return rawId;
}

/** Age of an event in milliseconds by its eventTime; null when absent or unparseable. */
export function eventAgeMs(ev: EventGridEvent, now: number): number | null {
  if (!ev.eventTime) return null;
  const t = Date.parse(ev.eventTime);
  return Number.isFinite(t) ? now - t : null;
}

/** A one-line reason from a zod error: the first issue, with its path. */
export function zodReason(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid payload';
  const path = i.path.length > 0 ? i.path.join('.') : 'body';
  return `${path}: ${i.message}`;
}
