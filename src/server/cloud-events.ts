// ACS Call Automation callbacks: a JSON array of CloudEvents 1.0, validated with zod and turned into
// CallbackEnvelopes addressed to the call the (authenticated) callback URL names.
import { z } from 'zod';
import type { CallbackEnvelope } from '../domain/ports.js';

const TYPE_PREFIX = 'Microsoft.Communication.';

const cloudEvent = z.looseObject({
  id: z.string().min(1).max(256),
  type: z.string().min(1).max(256),
  source: z.string().max(1024).optional(),
  time: z.string().max(64).optional(),
  specversion: z.string().max(16).optional(),
  data: z.record(z.string(), z.unknown()),
});

export const cloudEventBatch = z.array(cloudEvent).min(1).max(100);
export type CloudEvent = z.output<typeof cloudEvent>;

/** `Microsoft.Communication.CallConnected` → `CallConnected`. */
export function shortType(type: string): string {
  return type.startsWith(TYPE_PREFIX) ? type.slice(TYPE_PREFIX.length) : type;
}

export function toEnvelope(callId: string, ev: CloudEvent): CallbackEnvelope {
  return { callId, id: ev.id, type: shortType(ev.type), data: ev.data, time: ev.time ?? null };
}
