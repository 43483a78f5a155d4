// The one place the environment is read. Parsed once against a schema; every invalid variable is
// listed in one error; the result is deeply frozen. Variable names are a public contract: add, never rename.
import { z } from 'zod';
import { ConfigError } from './domain/errors.js';
import { parseTransferTarget, type TransferTarget } from './domain/transfer-target.js';
import { ADMISSION_SCHEMA, admissionSettings } from './config-admission.js';
import { audioFormatFor, realtimeConfigOf, realtimeSchema } from './config-realtime.js';
import { crossCheck, modeOf, productionCheck, protocolOf } from './config-checks.js';
import type { Config, ConfigRole, RedisAuth, StateBackend } from './config-types.js';

export { DEVELOPMENT_ENVS } from './config-checks.js';
export type { AudioFormat, Config, ConfigRole, LogLevel, RedisAuth, StateBackend, TtlPolicy } from './config-types.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
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

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

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
