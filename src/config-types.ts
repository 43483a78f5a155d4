// The shape of the validated, frozen configuration loadConfig (config.ts) returns.
import type { TransferTarget } from './domain/transfer-target.js';
import type { AdmissionSettings } from './config-admission.js';
import type { RealtimeConfig } from './config-realtime.js';

export type StateBackend = 'redis' | 'memory';
export type AudioFormat = 'pcm16KMono' | 'pcm24KMono';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Which command reads the configuration: the archiver needs no ACS. */
export type ConfigRole = 'serve' | 'archiver';

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
  readonly logLevel: LogLevel;
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
