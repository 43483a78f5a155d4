// Configuration of RESPONDER=realtime (speech-to-speech): the variables, their cross-field rules and
// the frozen slice. config.ts spreads the schema into its own and calls the two functions.
//
// Providers and their endpoints (all speak the same realtime event protocol):
// - openai: wss://api.openai.com/v1/realtime?model=<model>, `Authorization: Bearer <key>`.
// - azure-openai: wss://<resource>.openai.azure.com/openai/v1/realtime?model=<deployment> (or the
//   preview path /openai/realtime?api-version=…&deployment=…), `api-key` header or an Entra ID token
//   for https://cognitiveservices.azure.com/.default ("Azure OpenAI Realtime API reference").
// - voicelive: wss://<resource>.services.ai.azure.com/voice-live/realtime?api-version=2025-10-01&model=<model>,
//   `api-key` header or `Authorization: Bearer <Entra token>` (managed identity: the Cognitive Services
//   User role on the resource; "How to use the Voice Live API", learn.microsoft.com).
import { z } from 'zod';

export type RealtimeProvider = 'openai' | 'azure-openai' | 'voicelive';

export interface RealtimeConfig {
  readonly provider: RealtimeProvider;
  /** The realtime endpoint (ws:// only for the local server); null: the provider's default (openai only). */
  readonly url: string | null;
  readonly model: string;
  readonly voice: string;
  /** Key (api-key header for Azure, Bearer for OpenAI); null: Entra ID (managed identity) for Azure. */
  readonly apiKey: string | null;
  /** A dropped model socket is re-opened within this bound; after it the call ends as responder-failed. */
  readonly reconnectMs: number;
  /** Server VAD silence before the model takes its turn. */
  readonly silenceMs: number;
}

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const realtimeSchema = {
  REALTIME_PROVIDER: z.enum(['openai', 'azure-openai', 'voicelive']).optional().transform((v) => v ?? 'openai'),
  REALTIME_URL: z
    .string()
    .regex(/^wss?:\/\/[^\s/]+/, 'must be a ws:// or wss:// URL')
    .optional(),
  REALTIME_MODEL: z.string().min(1).optional().transform((v) => v ?? 'gpt-realtime'),
  REALTIME_VOICE: z.string().min(1).optional().transform((v) => v ?? 'alloy'),
  REALTIME_API_KEY: z.string().min(1).optional(),
  REALTIME_RECONNECT_MS: int(0, 60_000).optional().transform((v) => v ?? 5000),
  REALTIME_SILENCE_MS: int(100, 5000).optional().transform((v) => v ?? 500),
};

type Input = Readonly<Record<string, string | undefined>>;

/** Cross-field rules of the realtime variables (on the raw strings). */
export function realtimeCrossCheck(raw: Input): string[] {
  const problems: string[] = [];
  if (raw.RESPONDER !== 'realtime') return problems;
  const provider = raw.REALTIME_PROVIDER ?? 'openai';
  if (provider !== 'openai' && !raw.REALTIME_URL) problems.push(`REALTIME_URL: required with REALTIME_PROVIDER=${provider} (the resource's realtime endpoint)`);
  if (provider === 'openai' && !raw.REALTIME_URL && !raw.REALTIME_API_KEY && !raw.OPENAI_API_KEY) {
    problems.push('REALTIME_API_KEY: RESPONDER=realtime with OpenAI needs REALTIME_API_KEY or OPENAI_API_KEY (or REALTIME_URL of a local server)');
  }
  if (raw.REALTIME_URL?.startsWith('ws://') && !/^ws:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(raw.REALTIME_URL)) {
    problems.push('REALTIME_URL: ws:// (no TLS) is allowed only for a local server on 127.0.0.1 / localhost');
  }
  return problems;
}

/** The frozen slice (config.ts deep-freezes it with the rest). */
export function realtimeConfigOf(raw: {
  REALTIME_PROVIDER: RealtimeProvider;
  REALTIME_URL?: string | undefined;
  REALTIME_MODEL: string;
  REALTIME_VOICE: string;
  REALTIME_API_KEY?: string | undefined;
  REALTIME_RECONNECT_MS: number;
  REALTIME_SILENCE_MS: number;
  OPENAI_API_KEY?: string | undefined;
}): RealtimeConfig {
  return {
    provider: raw.REALTIME_PROVIDER,
    url: raw.REALTIME_URL ?? null,
    model: raw.REALTIME_MODEL,
    voice: raw.REALTIME_VOICE,
    apiKey: raw.REALTIME_API_KEY ?? (raw.REALTIME_PROVIDER === 'openai' ? (raw.OPENAI_API_KEY ?? null) : null),
    reconnectMs: raw.REALTIME_RECONNECT_MS,
    silenceMs: raw.REALTIME_SILENCE_MS,
  };
}

/** Realtime calls answer with 24 kHz audio (what the models take) unless MEDIA_AUDIO_FORMAT says otherwise. */
export function audioFormatFor(raw: Input, parsed: 'pcm16KMono' | 'pcm24KMono'): 'pcm16KMono' | 'pcm24KMono' {
  return raw.MEDIA_AUDIO_FORMAT ? parsed : raw.RESPONDER === 'realtime' ? 'pcm24KMono' : parsed;
}
