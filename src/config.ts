// The one place the environment is read. Parsed once against a schema; every invalid variable is
// listed in one error; the result is deeply frozen. Variable names are a public contract: add, never rename.
import { z } from 'zod';
import { ConfigError } from './domain/errors.js';
import { parseTransferTarget, type TransferTarget } from './domain/transfer-target.js';
import { ADMISSION_SCHEMA, admissionSettings, type AdmissionSettings } from './config-admission.js';
import { audioFormatFor, realtimeConfigOf, realtimeCrossCheck, realtimeSchema, type RealtimeConfig } from './config-realtime.js';

export type StateBackend = 'redis' | 'memory';
export type AudioFormat = 'pcm16KMono' | 'pcm24KMono';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
/** The protocol of `v`, or null when it is not a URL (never throws). */
function protocolOf(v: string): string | null {
  try {
    return new URL(v).protocol;
  } catch {
    return null;
  }
}
// One message per bad URL, naming what is wrong but never echoing the value (it may hold a key).
const url = (protocols: string[], hint = '') =>
  z.string().superRefine((v, ctx) => {
    const protocol = protocolOf(v);
    if (protocol === null) ctx.addIssue({ code: 'custom', message: `is not a valid URL (expected ${protocols.map((p) => `${p}//…`).join(' or ')})${hint}` });
    else if (!protocols.includes(protocol)) ctx.addIssue({ code: 'custom', message: `protocol must be one of ${protocols.join(', ')} (got ${protocol})` });
  });

// A transfer target (transfer-target.ts); the message says what is wrong, never the value (a phone number).
const transferTarget = z.string().transform((v, ctx): TransferTarget => {
  try {
    return parseTransferTarget(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** APP_ENV values that mean a developer's machine, a test or the demo: stand-ins allowed. */
export const DEVELOPMENT_ENVS: readonly string[] = ['dev', 'development', 'local', 'test', 'demo', 'bench'];
const ttl = (def: number) => int(1, 31_536_000).optional().transform((v) => v ?? def);

/** Raw schema: one entry per environment variable. */
const schema = z.object({
  PORT: int(0, 65535).optional().transform((v) => v ?? 8080),
  HOST: z.string().min(1).optional().transform((v) => v ?? '0.0.0.0'),
  PUBLIC_BASE_URL: url(['http:', 'https:']).optional(),
  PEER_URL: url(['http:', 'https:']).optional(),
  APP_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'letters, digits, - and _ only (1-64)')
    .optional()
    .transform((v) => v ?? 'rtvoice'),
  APP_ENV: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,32}$/, 'letters, digits, - and _ only (1-32)')
    .optional()
    .transform((v) => v ?? 'dev'),
  WORKER_ID: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().transform((v) => v ?? 'info'),
  STATE_BACKEND: z.enum(['redis', 'memory']).optional(),
  VOICE_MODE: z.enum(['production', 'development']).optional(),
  REDIS_URL: url(['redis:', 'rediss:'], '; percent-encode the password (/ as %2F, + as %2B, = as %3D) or set REDIS_HOST and REDIS_PASSWORD instead').optional(),
  REDIS_HOST: z
    .string()
    .regex(/^[a-zA-Z0-9.-]{1,253}$/, 'a host name or IPv4 address')
    .optional(),
  REDIS_PORT: int(1, 65535).optional(),
  REDIS_TLS: bool.optional(),
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_AUTH: z.enum(['none', 'key', 'entra']).optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'comma-separated host:port list')
    .optional(),
  REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000).optional().transform((v) => v ?? 500),
  REDIS_OUTBOX_MAX: int(1, 100_000).optional().transform((v) => v ?? 1000),
  COSMOS_ENDPOINT: url(['http:', 'https:']).optional(),
  COSMOS_KEY: z.string().min(1).optional(),
  COSMOS_DATABASE: z.string().min(1).optional().transform((v) => v ?? 'voice'),
  COSMOS_CA_FILE: z.string().min(1).optional(),
  SERVICEBUS_CONNECTION_STRING: z
    .string()
    .regex(/Endpoint=sb:\/\//i, 'must contain Endpoint=sb://')
    .optional(),
  SERVICEBUS_NAMESPACE: z.string().min(1).optional(),
  SERVICEBUS_ARCHIVE_QUEUE: z.string().min(1).optional().transform((v) => v ?? 'call-archive'),
  ARCHIVER_IN_SERVE: bool.optional().transform((v) => v ?? true),
  ARCHIVE_CONCURRENCY: int(1, 256).optional().transform((v) => v ?? 16),
  ARCHIVE_BULK_WRITES: bool.optional().transform((v) => v ?? true),
  HOT_COMPACTION_INTERVAL_MS: int(50, 3_600_000).optional().transform((v) => v ?? 60_000),
  SPOOL_DIR: z.string().min(1).optional().transform((v) => v ?? '.spool'),
  API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  EVENTGRID_WEBHOOK_KEY: z.string().min(16, 'at least 16 characters').optional(),
  HTTP_REQUEST_TIMEOUT_MS: int(1000, 120_000).optional().transform((v) => v ?? 10_000),
  HTTP_MAX_CONNECTIONS: int(0, 1_000_000).optional().transform((v) => v ?? 0),
  ACS_CONNECTION_STRING: z
    .string()
    .regex(/endpoint=https?:\/\/[^;]+;accesskey=[^;]+/i, 'must look like endpoint=https://...;accesskey=...')
    .optional(),
  ACS_ENDPOINT: url(['http:', 'https:']).optional(),
  ACS_RESOURCE_ID: z.string().min(1).optional(),
  ACS_JWKS_URL: url(['http:', 'https:'])
    .optional()
    .transform((v) => v ?? 'https://acscallautomation.communication.azure.com/calling/keys'),
  ACS_JWT_ISSUER: z
    .string()
    .min(1)
    .optional()
    .transform((v) => v ?? 'https://acscallautomation.communication.azure.com'),
  ACS_COGNITIVE_SERVICES_ENDPOINT: url(['https:', 'http:']).optional(),
  ACS_AUTH_DISABLED_DEV_ONLY: bool.optional().transform((v) => v ?? false),
  ACS_MAX_RETRIES: int(0, 10).optional().transform((v) => v ?? 3),
  ACS_RETRY_DELAY_MS: int(1, 60_000).optional().transform((v) => v ?? 500),
  ACS_REQUEST_TIMEOUT_MS: int(100, 120_000).optional().transform((v) => v ?? 10_000),
  MEDIA_AUDIO_FORMAT: z.enum(['pcm16KMono', 'pcm24KMono']).optional().transform((v) => v ?? 'pcm16KMono'),
  MEDIA_CHANNELS: z.enum(['mixed', 'unmixed']).optional().transform((v) => v ?? 'mixed'),
  MEDIA_RING_SECONDS: int(1, 120).optional().transform((v) => v ?? 2),
  MEDIA_MAX_PAYLOAD_BYTES: int(1024, 16 * 1024 * 1024).optional().transform((v) => v ?? 256 * 1024),
  MEDIA_PLAYOUT_FRAMES_PER_WRITE: int(1, 5).optional().transform((v) => v ?? 2),
  VAD_MODE: int(0, 3).optional().transform((v) => v ?? 3),
  VAD_ONSET_FRAMES: int(1, 50).optional().transform((v) => v ?? 2),
  VAD_HANGOVER_MS: int(0, 5000).optional().transform((v) => v ?? 400),
  TRANSCRIPTION_LOCALE: z
    .string()
    .regex(/^[a-z]{2,3}-[A-Z]{2}$/, 'a locale such as en-US')
    .optional()
    .transform((v) => v ?? 'en-US'),
  CALL_ANSWER_TIMEOUT_MS: int(100, 120_000).optional().transform((v) => v ?? 10_000),
  CALL_MEDIA_CONNECT_TIMEOUT_MS: int(100, 120_000).optional().transform((v) => v ?? 15_000),
  CALL_MAX_DURATION_S: int(10, 86_400).optional().transform((v) => v ?? 3600),
  MEDIA_RECONNECT_GRACE_MS: int(0, 120_000).optional().transform((v) => v ?? 5000),
  CALL_SILENCE_TIMEOUT_S: int(0, 3600).optional().transform((v) => v ?? 30),
  INCOMING_CALL_MAX_AGE_S: int(1, 3600).optional().transform((v) => v ?? 30),
  INCOMING_CALL_REPLY_BUDGET_MS: int(0, 25_000).optional().transform((v) => v ?? 3000),
  INCOMING_CALLS_PER_WINDOW: int(0, 1_000_000).optional().transform((v) => v ?? 500),
  MAX_CONCURRENT_CALLS: int(1, 1_000_000).optional().transform((v) => v ?? 2000),
  ...ADMISSION_SCHEMA,
  SHUTDOWN_DRAIN_TIMEOUT_MS: int(0, 3_600_000).optional().transform((v) => v ?? 30_000),
  V8_PRETENURING: bool.optional().transform((v) => v ?? false),
  RESPONDER: z.enum(['local', 'openai', 'realtime']).optional().transform((v) => v ?? 'local'),
  RESPONDER_CONCURRENCY: int(1, 10_000).optional().transform((v) => v ?? 64),
  RESPONDER_TIMEOUT_MS: int(100, 120_000).optional().transform((v) => v ?? 8000),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: url(['http:', 'https:']).optional(),
  OPENAI_MODEL: z.string().min(1).optional().transform((v) => v ?? 'gpt-4o-mini'),
  AZURE_OPENAI_ENDPOINT: url(['http:', 'https:']).optional(),
  AZURE_OPENAI_DEPLOYMENT: z.string().min(1).optional(),
  AZURE_OPENAI_API_KEY: z.string().min(1).optional(),
  AZURE_OPENAI_API_VERSION: z.string().min(1).optional().transform((v) => v ?? '2024-10-21'),
  SYSTEM_PROMPT: z.string().min(1).optional(),
  TRANSFER_TARGET: transferTarget.optional(),
  TTS: z.enum(['local', 'azure', 'acs']).optional().transform((v) => v ?? 'local'),
  TTS_VOICE: z.string().min(1).optional(),
  TTS_CACHE_MEMORY_MB: int(0, 65_536).optional().transform((v) => v ?? 64),
  AZURE_SPEECH_REGION: z.string().min(1).optional(),
  AZURE_SPEECH_ENDPOINT: url(['http:', 'https:']).optional(),
  AZURE_SPEECH_KEY: z.string().min(1).optional(),
  AZURE_SPEECH_RESOURCE_ID: z
    .string()
    .regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^/]+$/i, 'the ARM id /subscriptions/…/providers/Microsoft.CognitiveServices/accounts/<name>')
    .optional(),
  TTL_CONTEXT: ttl(1800),
  TTL_HISTORY: ttl(7200),
  TTL_AUTH: ttl(900),
  TTL_TTS: ttl(86_400),
  TTL_SUMMARY: ttl(604_800),
  TTL_DEDUP: ttl(3600),
  TTL_LEASE: ttl(30),
  TTL_SESSION: ttl(7200),
  TTL_PROFILE: ttl(300),
  TTL_WORKER: ttl(15),
  TTL_PENDING: ttl(60),
  TTL_RATE: ttl(2),
  TTL_ARCHIVED: ttl(600),
  TTL_OPERATOR_SESSION: ttl(3600),
  TTL_CONSOLE_LIVE: ttl(15),
  TTL_CONSOLE_SUMMARY: ttl(60),
  TTL_CONSOLE_CAMPAIGNS: ttl(30),
  TTL_CONSOLE_DAY: ttl(172_800),
  HISTORY_MAX_TURNS: int(2, 10_000).optional().transform((v) => v ?? 200),
  OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp']).optional().transform((v) => v ?? 'none'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http:', 'https:']).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(128).optional().transform((v) => v ?? 'voice-worker'),
  REALTIME_PROVIDER: realtimeSchema.REALTIME_PROVIDER,
  REALTIME_URL: realtimeSchema.REALTIME_URL,
  REALTIME_MODEL: realtimeSchema.REALTIME_MODEL,
  REALTIME_VOICE: realtimeSchema.REALTIME_VOICE,
  REALTIME_API_KEY: realtimeSchema.REALTIME_API_KEY,
  REALTIME_RECONNECT_MS: realtimeSchema.REALTIME_RECONNECT_MS,
  REALTIME_SILENCE_MS: realtimeSchema.REALTIME_SILENCE_MS,
});

type Raw = z.output<typeof schema>;

export type RedisAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'key'; readonly username: string | undefined; readonly password: string }
  | { readonly kind: 'entra'; readonly username: string | undefined };

export interface TtlPolicy {
  readonly context: number;
  readonly history: number;
  readonly auth: number;
  readonly tts: number;
  readonly summary: number;
  readonly dedup: number;
  readonly lease: number;
  readonly session: number;
  readonly profile: number;
  readonly worker: number;
  readonly pending: number;
  readonly rate: number;
  /** A call's conversation keys once its transcript is archived (only ever shortens their TTL). */
  readonly archived: number;
  /** Operator console session (sliding: refreshed on every request of the session). */
  readonly operatorSession: number;
  /** The console's active-calls view and replica health (refreshed by call events and every few seconds). */
  readonly consoleLive: number;
  /** The console's dashboard summary cache (invalidated when a call ends). */
  readonly consoleSummary: number;
  readonly consoleCampaigns: number;
  /** One UTC day's call counters behind the summary. */
  readonly consoleDay: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicBaseUrl: string;
  /**
   * This replica's own address as the other replicas reach it (not the ingress): transcription that
   * lands on a replica without the call's audio goes straight to the owner there while Redis is
   * down or stalled. Unset: only through Redis.
   */
  readonly peerUrl: string | undefined;
  readonly appName: string;
  readonly appEnv: string;
  readonly workerId: string;
  readonly logLevel: Raw['LOG_LEVEL'];
  /** production: every stand-in is a configuration error (APP_ENV outside DEVELOPMENT_ENVS, or VOICE_MODE). */
  readonly mode: 'production' | 'development';
  readonly state: {
    readonly backend: StateBackend;
    /** Host, port, TLS (and, for the URL form, the credentials) of a single Redis node. */
    readonly redisUrl: string;
    /**
     * How the client authenticates: the URL's own credentials or none ('none'), REDIS_PASSWORD ('key'),
     * or a Microsoft Entra ID token for the managed identity, refreshed before expiry ('entra').
     */
    readonly auth: RedisAuth;
    readonly clusterNodes: readonly { host: string; port: number }[];
    readonly commandTimeoutMs: number;
    readonly outboxMax: number;
    readonly historyMaxTurns: number;
  };
  readonly ttl: TtlPolicy;
  readonly cosmos: {
    readonly endpoint: string | undefined;
    readonly key: string | undefined;
    readonly database: string;
    readonly caFile: string | undefined;
  };
  readonly serviceBus: {
    readonly connectionString: string | undefined;
    readonly namespace: string | undefined;
    readonly archiveQueue: string;
  };
  readonly archive: {
    readonly inServe: boolean;
    readonly concurrency: number;
    /** Transcript creates received together leave in one Cosmos bulk request. */
    readonly bulkWrites: boolean;
    readonly spoolDir: string;
    /** Hot Redis counters (the console's day counters) are copied to Cosmos this often (before their TTL). */
    readonly hotCompactionIntervalMs: number;
  };
  /** Bearer token for the operator REST routes; unset = loopback clients only. */
  readonly apiToken: string | undefined;
  /** Secret Event Grid sends as the `key` query parameter of the subscription URL; unset = unauthenticated (dev only). */
  readonly eventGridWebhookKey: string | undefined;
  readonly http: {
    /** Whole-request deadline (headers + body); a trickled body is cut off after it. */
    readonly requestTimeoutMs: number;
    /** TCP connections the server accepts at once (media sockets included); 0 = 2 × MAX_CONCURRENT_CALLS + 1024. */
    readonly maxConnections: number;
  };
  readonly acs: {
    readonly connectionString: string | undefined;
    readonly endpoint: string | undefined;
    readonly resourceId: string | undefined;
    readonly jwksUrl: string;
    readonly jwtIssuer: string;
    readonly authDisabled: boolean;
    /** Azure AI services endpoint ACS uses for transcription (callIntelligenceOptions). */
    readonly cognitiveServicesEndpoint: string | undefined;
    readonly maxRetries: number;
    readonly retryDelayMs: number;
    readonly requestTimeoutMs: number;
  };
  readonly media: {
    readonly audioFormat: AudioFormat;
    readonly sampleRate: 16000 | 24000;
    readonly channels: 'mixed' | 'unmixed';
    readonly ringSeconds: number;
    readonly maxPayloadBytes: number;
    /** Outbound 20 ms frames per scheduler wake-up and socket write (the playout lead is this × 20 ms). */
    readonly playoutFramesPerWrite: number;
    readonly vadMode: number;
    readonly vadOnsetFrames: number;
    readonly vadHangoverMs: number;
    readonly transcriptionLocale: string;
  };
  readonly calls: {
    readonly answerTimeoutMs: number;
    readonly mediaConnectTimeoutMs: number;
    readonly maxDurationS: number;
    readonly mediaReconnectGraceMs: number;
    readonly silenceTimeoutS: number;
    readonly incomingMaxAgeS: number;
    readonly incomingReplyBudgetMs: number;
    readonly maxConcurrent: number;
    /** New calls admitted across all replicas per TTL_RATE window (0 = no shared limit). */
    readonly incomingPerWindow: number;
  };
  /** Tenants, the global cap and the global rate limit (config-admission.ts). */
  readonly admission: AdmissionSettings;
  readonly shutdownDrainTimeoutMs: number;
  /** OpenTelemetry traces: off ('none') by default; 'otlp' exports over OTLP/HTTP. */
  readonly telemetry: {
    readonly exporter: 'none' | 'otlp';
    readonly otlpEndpoint: string | undefined;
    readonly serviceName: string;
  };
  /** V8 allocation-site pretenuring (off by default: see v8-tuning.ts). */
  readonly v8Pretenuring: boolean;
  readonly responder: {
    readonly kind: 'local' | 'openai' | 'realtime';
    readonly concurrency: number;
    readonly timeoutMs: number;
    readonly systemPrompt: string | undefined;
    readonly openai: {
      readonly apiKey: string | undefined;
      readonly baseUrl: string | undefined;
      readonly model: string;
      readonly azureEndpoint: string | undefined;
      readonly azureDeployment: string | undefined;
      readonly azureApiKey: string | undefined;
      readonly azureApiVersion: string;
    };
  };
  /** Where "an agent, please" goes (+E164, 8:acs:…, 8:orgid:…); null: the caller hears that no agent is available. */
  readonly transfer: { readonly target: TransferTarget | null };
  /** RESPONDER=realtime: the speech-to-speech model session (config-realtime.ts). */
  readonly realtime: RealtimeConfig;
  readonly tts: {
    readonly kind: 'local' | 'azure' | 'acs';
    readonly voice: string | undefined;
    readonly azureRegion: string | undefined;
    readonly azureEndpoint: string | undefined;
    readonly azureKey: string | undefined;
    /** ARM id of the Speech resource: Entra tokens go as aad#<id>#<token> on a regional endpoint. */
    readonly azureResourceId: string | undefined;
    /** Bound of the in-process TTS cache tier in front of Redis (0 = none). */
    readonly cacheMemoryBytes: number;
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

type Input = Readonly<Record<string, string | undefined>>;

/**
 * Cross-field rules the per-variable schema cannot express. Runs on the raw strings, next to the
 * schema, so every problem is reported in the same error. Returns problems, never throws.
 */
function crossCheck(raw: Input): string[] {
  const problems: string[] = [];
  const redisKinds = ['REDIS_URL', 'REDIS_HOST', 'REDIS_CLUSTER_NODES'].filter((k) => raw[k]);
  if (redisKinds.length > 1) problems.push(`${redisKinds[1]}: set together with ${redisKinds[0]}; choose one way to reach Redis`);
  if (raw.REDIS_PORT && !raw.REDIS_HOST) problems.push('REDIS_PORT: set without REDIS_HOST');
  if (raw.REDIS_AUTH === 'key' && !raw.REDIS_PASSWORD) problems.push('REDIS_PASSWORD: required with REDIS_AUTH=key');
  if (raw.REDIS_AUTH === 'entra' && raw.REDIS_PASSWORD) problems.push('REDIS_PASSWORD: set with REDIS_AUTH=entra (the password is the Entra ID token); remove it');
  if (raw.REDIS_AUTH === 'none' && raw.REDIS_PASSWORD) problems.push('REDIS_PASSWORD: set with REDIS_AUTH=none');
  if (raw.REDIS_AUTH === 'entra' && raw.REDIS_URL && protocolOf(raw.REDIS_URL) !== 'rediss:') {
    problems.push('REDIS_AUTH: entra needs TLS (rediss://, or REDIS_HOST with REDIS_TLS=true); Azure accepts Entra ID tokens over TLS only');
  }
  if (raw.REDIS_AUTH === 'entra' && raw.REDIS_HOST && raw.REDIS_TLS !== undefined && !['true', '1', 'yes'].includes(raw.REDIS_TLS)) {
    problems.push('REDIS_TLS: must be true with REDIS_AUTH=entra (Azure accepts Entra ID tokens over TLS only)');
  }
  if (raw.STATE_BACKEND === 'memory' && (raw.REDIS_URL || raw.REDIS_HOST || raw.REDIS_CLUSTER_NODES)) {
    problems.push('STATE_BACKEND: is memory but REDIS_URL/REDIS_HOST/REDIS_CLUSTER_NODES is set; choose one');
  }
  if (raw.COSMOS_KEY && !raw.COSMOS_ENDPOINT) problems.push('COSMOS_KEY: set without COSMOS_ENDPOINT');
  if (raw.SERVICEBUS_CONNECTION_STRING && raw.SERVICEBUS_NAMESPACE) {
    problems.push('SERVICEBUS_NAMESPACE: set together with SERVICEBUS_CONNECTION_STRING; choose one');
  }
  if (raw.RESPONDER === 'openai' && !raw.OPENAI_API_KEY && !raw.AZURE_OPENAI_ENDPOINT) {
    problems.push('RESPONDER: openai needs OPENAI_API_KEY or AZURE_OPENAI_ENDPOINT');
  }
  if (raw.AZURE_OPENAI_ENDPOINT && !raw.AZURE_OPENAI_DEPLOYMENT) {
    problems.push('AZURE_OPENAI_DEPLOYMENT: required with AZURE_OPENAI_ENDPOINT');
  }
  if (raw.TTS === 'azure' && !raw.AZURE_SPEECH_REGION && !raw.AZURE_SPEECH_ENDPOINT) {
    problems.push('TTS: azure needs AZURE_SPEECH_REGION or AZURE_SPEECH_ENDPOINT');
  }
  // Entra ID on Speech: the service refuses a bare token on the regional endpoint.
  const customDomain = /^https:\/\/[^/]+\.cognitiveservices\.azure\.com(\/|$)/i.test(raw.AZURE_SPEECH_ENDPOINT ?? '');
  if (raw.TTS === 'azure' && !raw.AZURE_SPEECH_KEY && !raw.AZURE_SPEECH_RESOURCE_ID && !customDomain) {
    problems.push('AZURE_SPEECH_RESOURCE_ID: required for Entra ID on a regional Speech endpoint (or set AZURE_SPEECH_ENDPOINT to the custom subdomain https://<name>.cognitiveservices.azure.com, or AZURE_SPEECH_KEY)');
  }
  problems.push(...realtimeCrossCheck(raw));
  return problems;
}

/** Production or development, from VOICE_MODE when set, else from APP_ENV. */
function modeOf(raw: Input): 'production' | 'development' {
  if (raw.VOICE_MODE === 'production' || raw.VOICE_MODE === 'development') return raw.VOICE_MODE;
  return DEVELOPMENT_ENVS.includes(raw.APP_ENV ?? 'dev') ? 'development' : 'production';
}

/**
 * Production mode: every stand-in is an error, so a replica never answers calls on in-process state,
 * an in-process Cosmos (lost at restart), an in-process queue, or without ACS authentication.
 * `role` archiver needs only what the archive consumer uses.
 */
function productionCheck(raw: Input, role: ConfigRole): string[] {
  const problems: string[] = [];
  const why = `required in production (APP_ENV=${raw.APP_ENV ?? 'dev'}${raw.VOICE_MODE ? `, VOICE_MODE=${raw.VOICE_MODE}` : ''})`;
  if (raw.STATE_BACKEND === 'memory') problems.push(`STATE_BACKEND: memory is per-replica state, not allowed in production`);
  else if (!raw.REDIS_URL && !raw.REDIS_HOST && !raw.REDIS_CLUSTER_NODES) problems.push(`REDIS_HOST: ${why} (or REDIS_URL / REDIS_CLUSTER_NODES); without it state is per replica`);
  if (!raw.COSMOS_ENDPOINT) problems.push(`COSMOS_ENDPOINT: ${why}; without it archives go to an in-process stand-in and are lost at restart`);
  if (!raw.SERVICEBUS_NAMESPACE && !raw.SERVICEBUS_CONNECTION_STRING) problems.push(`SERVICEBUS_NAMESPACE: ${why} (or SERVICEBUS_CONNECTION_STRING); without it the archive queue is in process`);
  if (role === 'archiver') return problems;
  if (!raw.ACS_ENDPOINT && !raw.ACS_CONNECTION_STRING) problems.push(`ACS_ENDPOINT: ${why} (or ACS_CONNECTION_STRING); without it no call can be answered`);
  if (!raw.ACS_RESOURCE_ID) problems.push(`ACS_RESOURCE_ID: ${why}; without it every callback and media connection is refused`);
  if (!raw.EVENTGRID_WEBHOOK_KEY) problems.push(`EVENTGRID_WEBHOOK_KEY: ${why}; without it anyone can post IncomingCall events`);
  if (!raw.ACS_COGNITIVE_SERVICES_ENDPOINT) problems.push(`ACS_COGNITIVE_SERVICES_ENDPOINT: ${why} (transcription is on); ACS transcribes the caller with this AI services account`);
  if (!raw.PUBLIC_BASE_URL) problems.push(`PUBLIC_BASE_URL: ${why}; ACS reaches the callbacks and the media socket there`);
  else if (protocolOf(raw.PUBLIC_BASE_URL) === 'http:') problems.push('PUBLIC_BASE_URL: must be https:// in production (ACS connects the media socket with wss://)');
  if (['true', '1', 'yes'].includes(raw.ACS_AUTH_DISABLED_DEV_ONLY ?? '')) problems.push('ACS_AUTH_DISABLED_DEV_ONLY: not allowed in production');
  return problems;
}

/** Which command reads the configuration: the archiver needs no ACS. */
export type ConfigRole = 'serve' | 'archiver';

function redisAuthOf(raw: Raw): RedisAuth {
  const kind = raw.REDIS_AUTH ?? (raw.REDIS_PASSWORD ? 'key' : 'none');
  if (kind === 'entra') return { kind, username: raw.REDIS_USERNAME };
  if (kind === 'key') return { kind, username: raw.REDIS_USERNAME, password: raw.REDIS_PASSWORD as string };
  return { kind: 'none' };
}

function redisUrlOf(raw: Raw): string {
  if (raw.REDIS_URL) return raw.REDIS_URL;
  if (raw.REDIS_HOST) {
    // Azure defaults: TLS on 6380 (Azure Cache for Redis); Azure Managed Redis listens on 10000: set REDIS_PORT.
    const tls = raw.REDIS_TLS ?? (raw.REDIS_AUTH === 'entra' || raw.REDIS_HOST.endsWith('.windows.net') || raw.REDIS_HOST.endsWith('.azure.net'));
    return `${tls ? 'rediss' : 'redis'}://${raw.REDIS_HOST}:${raw.REDIS_PORT ?? (tls ? 6380 : 6379)}`;
  }
  return 'redis://127.0.0.1:6379';
}

function parseClusterNodes(v: string | undefined): { host: string; port: number }[] {
  if (!v) return [];
  return v.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });
}

/**
 * Parses the environment. Throws ConfigError listing every problem (one line each, `NAME: reason`).
 * Empty strings count as unset, so `FOO=` in a .env file means "use the default".
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: ConfigRole = 'serve'): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = schema.safeParse(input);
  // Schema, cross-field and production problems together: one error lists all of them.
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  problems.push(...crossCheck(input));
  const mode = modeOf(input);
  if (mode === 'production') problems.push(...productionCheck(input, role));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const raw = parsed.data;

  const backend: StateBackend =
    raw.STATE_BACKEND ?? (raw.REDIS_URL || raw.REDIS_HOST || raw.REDIS_CLUSTER_NODES ? 'redis' : 'memory');
  const port = raw.PORT;
  const config: Config = {
    port,
    host: raw.HOST,
    publicBaseUrl: (raw.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    peerUrl: raw.PEER_URL?.replace(/\/+$/, ''),
    appName: raw.APP_NAME,
    appEnv: raw.APP_ENV,
    workerId: raw.WORKER_ID ?? `w-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    logLevel: raw.LOG_LEVEL,
    mode,
    state: {
      backend,
      redisUrl: redisUrlOf(raw),
      auth: redisAuthOf(raw),
      clusterNodes: parseClusterNodes(raw.REDIS_CLUSTER_NODES),
      commandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
      outboxMax: raw.REDIS_OUTBOX_MAX,
      historyMaxTurns: raw.HISTORY_MAX_TURNS,
    },
    ttl: {
      context: raw.TTL_CONTEXT,
      history: raw.TTL_HISTORY,
      auth: raw.TTL_AUTH,
      tts: raw.TTL_TTS,
      summary: raw.TTL_SUMMARY,
      dedup: raw.TTL_DEDUP,
      lease: raw.TTL_LEASE,
      session: raw.TTL_SESSION,
      profile: raw.TTL_PROFILE,
      worker: raw.TTL_WORKER,
      pending: raw.TTL_PENDING,
      rate: raw.TTL_RATE,
      archived: raw.TTL_ARCHIVED,
      operatorSession: raw.TTL_OPERATOR_SESSION,
      consoleLive: raw.TTL_CONSOLE_LIVE,
      consoleSummary: raw.TTL_CONSOLE_SUMMARY,
      consoleCampaigns: raw.TTL_CONSOLE_CAMPAIGNS,
      consoleDay: raw.TTL_CONSOLE_DAY,
    },
    cosmos: {
      endpoint: raw.COSMOS_ENDPOINT,
      key: raw.COSMOS_KEY,
      database: raw.COSMOS_DATABASE,
      caFile: raw.COSMOS_CA_FILE,
    },
    serviceBus: {
      connectionString: raw.SERVICEBUS_CONNECTION_STRING,
      namespace: raw.SERVICEBUS_NAMESPACE,
      archiveQueue: raw.SERVICEBUS_ARCHIVE_QUEUE,
    },
    archive: {
      inServe: raw.ARCHIVER_IN_SERVE,
      concurrency: raw.ARCHIVE_CONCURRENCY,
      bulkWrites: raw.ARCHIVE_BULK_WRITES,
      spoolDir: raw.SPOOL_DIR,
      hotCompactionIntervalMs: raw.HOT_COMPACTION_INTERVAL_MS,
    },
    apiToken: raw.API_TOKEN,
    eventGridWebhookKey: raw.EVENTGRID_WEBHOOK_KEY,
    http: {
      requestTimeoutMs: raw.HTTP_REQUEST_TIMEOUT_MS,
      maxConnections: raw.HTTP_MAX_CONNECTIONS > 0 ? raw.HTTP_MAX_CONNECTIONS : raw.MAX_CONCURRENT_CALLS * 2 + 1024,
    },
    acs: {
      connectionString: raw.ACS_CONNECTION_STRING,
      endpoint: raw.ACS_ENDPOINT,
      resourceId: raw.ACS_RESOURCE_ID,
      jwksUrl: raw.ACS_JWKS_URL,
      jwtIssuer: raw.ACS_JWT_ISSUER,
      authDisabled: raw.ACS_AUTH_DISABLED_DEV_ONLY,
      cognitiveServicesEndpoint: raw.ACS_COGNITIVE_SERVICES_ENDPOINT,
      maxRetries: raw.ACS_MAX_RETRIES,
      retryDelayMs: raw.ACS_RETRY_DELAY_MS,
      requestTimeoutMs: raw.ACS_REQUEST_TIMEOUT_MS,
    },
    media: {
      audioFormat: audioFormatFor(input, raw.MEDIA_AUDIO_FORMAT),
      sampleRate: audioFormatFor(input, raw.MEDIA_AUDIO_FORMAT) === 'pcm24KMono' ? 24000 : 16000,
      channels: raw.MEDIA_CHANNELS,
      ringSeconds: raw.MEDIA_RING_SECONDS,
      maxPayloadBytes: raw.MEDIA_MAX_PAYLOAD_BYTES,
      playoutFramesPerWrite: raw.MEDIA_PLAYOUT_FRAMES_PER_WRITE,
      vadMode: raw.VAD_MODE,
      vadOnsetFrames: raw.VAD_ONSET_FRAMES,
      vadHangoverMs: raw.VAD_HANGOVER_MS,
      transcriptionLocale: raw.TRANSCRIPTION_LOCALE,
    },
    calls: {
      answerTimeoutMs: raw.CALL_ANSWER_TIMEOUT_MS,
      mediaConnectTimeoutMs: raw.CALL_MEDIA_CONNECT_TIMEOUT_MS,
      maxDurationS: raw.CALL_MAX_DURATION_S,
      mediaReconnectGraceMs: raw.MEDIA_RECONNECT_GRACE_MS,
      silenceTimeoutS: raw.CALL_SILENCE_TIMEOUT_S,
      incomingMaxAgeS: raw.INCOMING_CALL_MAX_AGE_S,
      incomingReplyBudgetMs: raw.INCOMING_CALL_REPLY_BUDGET_MS,
      maxConcurrent: raw.MAX_CONCURRENT_CALLS,
      incomingPerWindow: raw.INCOMING_CALLS_PER_WINDOW,
    },
    admission: admissionSettings(raw),
    shutdownDrainTimeoutMs: raw.SHUTDOWN_DRAIN_TIMEOUT_MS,
    telemetry: {
      exporter: raw.OTEL_TRACES_EXPORTER,
      otlpEndpoint: raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      serviceName: raw.OTEL_SERVICE_NAME,
    },
    v8Pretenuring: raw.V8_PRETENURING,
    responder: {
      kind: raw.RESPONDER,
      concurrency: raw.RESPONDER_CONCURRENCY,
      timeoutMs: raw.RESPONDER_TIMEOUT_MS,
      systemPrompt: raw.SYSTEM_PROMPT,
      openai: {
        apiKey: raw.OPENAI_API_KEY,
        baseUrl: raw.OPENAI_BASE_URL,
        model: raw.OPENAI_MODEL,
        azureEndpoint: raw.AZURE_OPENAI_ENDPOINT,
        azureDeployment: raw.AZURE_OPENAI_DEPLOYMENT,
        azureApiKey: raw.AZURE_OPENAI_API_KEY,
        azureApiVersion: raw.AZURE_OPENAI_API_VERSION,
      },
    },
    transfer: { target: raw.TRANSFER_TARGET ?? null },
    realtime: realtimeConfigOf(raw),
    tts: {
      kind: raw.TTS,
      voice: raw.TTS_VOICE,
      azureRegion: raw.AZURE_SPEECH_REGION,
      azureEndpoint: raw.AZURE_SPEECH_ENDPOINT,
      azureKey: raw.AZURE_SPEECH_KEY,
      azureResourceId: raw.AZURE_SPEECH_RESOURCE_ID,
      cacheMemoryBytes: raw.TTS_CACHE_MEMORY_MB * 1024 * 1024,
    },
  };
  return deepFreeze(config);
}

/** The names loadConfig reads, for .env.example and the README table (kept honest by a test). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));
