// Event Grid payloads the incoming-call route accepts: the subscription validation handshake and
// Microsoft.Communication.IncomingCall, validated with zod. Identifiers are normalised and masked here.
// Optional fields follow the SDK's typing (@azure/communication-call-automation IncomingCall event:
// serverCallId, callerDisplayName, correlationId, customContext optional) and the wire, where an absent
// value may arrive as JSON null: `.nullish()` everywhere the SDK says optional, normalised to undefined.
import { z } from 'zod';

/** An optional field that may also arrive as null (both mean "absent"). */
const nullish = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);

export const VALIDATION_EVENT = 'Microsoft.EventGrid.SubscriptionValidationEvent';
export const INCOMING_CALL_EVENT = 'Microsoft.Communication.IncomingCall';

const eventGridEvent = z.looseObject({
  id: z.string().min(1).max(256),
  eventType: z.string().min(1).max(256),
  eventTime: nullish(z.string().max(64)),
  subject: nullish(z.string().max(1024)),
  data: z.record(z.string(), z.unknown()),
});

/** What Event Grid POSTs: an array of events (usually one). */
export const eventGridBatch = z.array(eventGridEvent).min(1).max(100);
export type EventGridEvent = z.output<typeof eventGridEvent>;

export const validationData = z.looseObject({
  validationCode: z.string().min(1).max(512),
  validationUrl: nullish(z.string()),
});

const identifier = z.looseObject({
  kind: nullish(z.string()),
  rawId: nullish(z.string().max(512)),
  phoneNumber: nullish(z.looseObject({ value: z.string().max(64) })),
  communicationUser: nullish(z.looseObject({ id: z.string().max(512) })),
});

export const incomingCallData = z.looseObject({
  to: identifier,
  from: identifier,
  incomingCallContext: z.string().min(1).max(64 * 1024),
  correlationId: nullish(z.string().min(1).max(256)),
  serverCallId: nullish(z.string().max(1024)),
  callerDisplayName: nullish(z.string().max(256)),
  customContext: nullish(
    z.looseObject({
      sipHeaders: nullish(z.record(z.string(), z.unknown())),
      voipHeaders: nullish(z.record(z.string(), z.unknown())),
    }),
  ),
});
export type IncomingCallData = z.output<typeof incomingCallData>;

export interface Party {
  readonly rawId: string;
  /** Lower camel case: phoneNumber, communicationUser, microsoftTeamsUser, unknown. */
  readonly kind: string;
  /** Safe for logs and snapshots: phone numbers keep only their last two digits. */
  readonly masked: string;
}

/** An identifier as parsed (every field optional). */
export interface IdentifierInput {
  readonly kind?: string | undefined;
  readonly rawId?: string | undefined;
  readonly phoneNumber?: { readonly value: string } | undefined;
  readonly communicationUser?: { readonly id: string } | undefined;
}

export function partyOf(id: IdentifierInput): Party {
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
export function eventAgeMs(ev: { readonly eventTime?: string | undefined }, now: number): number | null {
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
