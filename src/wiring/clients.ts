// Every SDK client the worker uses is constructed here, and only here: Redis (ioredis), Cosmos DB,
// Service Bus, Call Automation, OpenAI / Azure OpenAI, the Entra ID token provider for Azure Speech,
// and the one ACS JWT verifier (one JWKS cache shared by the callback route and the media upgrade).
// One DefaultAzureCredential per process backs every Entra ID client, so its token cache is shared.
// The wiring files receive these clients; adapters receive them through their constructors.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { CallAutomationClient, type CallAutomationClientOptions } from '@azure/communication-call-automation';
import { CosmosClient } from '@azure/cosmos';
import { VoiceLiveClient } from '@azure/ai-voicelive';
import { DefaultAzureCredential, getBearerTokenProvider, type TokenCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import OpenAI, { AzureOpenAI } from 'openai';
import type { Config } from '../config.js';
import { ConfigError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { acsEndpointOf, type AcsClientConfig } from '../adapters/acs/call-control.js';
import type { EmbeddedCosmos } from '../adapters/cosmos/embedded-cosmos-server.js';
import { watchRedisConnection, type RedisClient, type RedisClientConfig } from '../adapters/redis/redis-client.js';
import {
  applyCredentials,
  DEFAULT_ENTRA_AUTH,
  fetchEntraCredentials,
  keepEntraAuth,
  type AccessTokenSource,
  type RedisEntraAuthConfig,
} from '../adapters/redis/redis-entra-auth.js';
import type { OpenAIClientHandle } from '../adapters/responder/openai-responder.js';
import { voiceLiveEndpoint } from '../adapters/responder/realtime-voicelive.js';
import type { ConversationClients } from './conversation-wiring.js';
import { createAcsJwtVerifier, type AcsJwtVerifier } from '../server/acs-auth.js';
import type { JwksCacheHooks } from '../server/jwks-cache.js';

/** Scope of Azure AI services (Speech, Azure OpenAI) access tokens. */
export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';

let sharedCredential: TokenCredential | null = null;

/** The process's one DefaultAzureCredential (managed identity in Azure), created on first use. */
export function azureCredential(): TokenCredential {
  sharedCredential ??= new DefaultAzureCredential();
  return sharedCredential;
}

// ---- Redis ----------------------------------------------------------------------------------------

/**
 * The ioredis client (single node or cluster) with bounded timeouts and a bounded offline queue.
 * Credentials: the URL's own (percent-encoded), REDIS_PASSWORD (any key, `/+=` included), or a
 * Microsoft Entra ID token of the managed identity, renewed before expiry (redis-entra-auth.ts).
 * With Entra the client connects once the first token is in hand; commands meanwhile wait in the
 * bounded offline queue.
 */
export function createRedisClient(
  cfg: RedisClientConfig,
  log: Logger,
  tokens: AccessTokenSource | (() => AccessTokenSource) = azureCredential,
  entra: Omit<RedisEntraAuthConfig, 'username'> = DEFAULT_ENTRA_AUTH,
): RedisClient {
  const auth = cfg.auth;
  const tls = cfg.redisUrl.toLowerCase().startsWith('rediss:');
  const common: RedisOptions = {
    commandTimeout: cfg.commandTimeoutMs,
    connectTimeout: Math.max(1000, cfg.commandTimeoutMs * 2),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    lazyConnect: auth.kind === 'entra',
    ...(auth.kind === 'key' ? { password: auth.password, ...(auth.username ? { username: auth.username } : {}) } : {}),
  };
  const client: RedisClient =
    cfg.clusterNodes.length > 0
      ? new Cluster([...cfg.clusterNodes], {
          redisOptions: { ...common, ...(tls ? { tls: {} } : {}) },
          enableOfflineQueue: true,
          lazyConnect: auth.kind === 'entra',
          clusterRetryStrategy: (t) => Math.min(t * 100, 2000),
        })
      : new Redis(cfg.redisUrl, common);
  watchRedisConnection(client, log);
  if (auth.kind === 'entra') {
    const source = typeof tokens === 'function' ? tokens() : tokens;
    const elog = log.child({ component: 'redis-entra' });
    const start = async (): Promise<void> => {
      for (;;) {
        try {
          const first = await fetchEntraCredentials(source, auth.username);
          await applyCredentials(client, first);
          const keeper = keepEntraAuth({ client, source, log: elog }, { ...entra, username: auth.username }, first);
          client.once('end', () => keeper.stop());
          // A refused first connection is retried by ioredis itself (retryStrategy), with the token set.
          client.connect().catch(() => undefined);
          return;
        } catch (err) {
          if (client.status === 'end') return;
          elog.warn({ err }, 'no Entra ID token for Redis yet; retrying');
          await new Promise((r) => setTimeout(r, entra.retryMs).unref());
        }
      }
    };
    void start();
  }
  return client;
}

// ---- Cosmos DB ------------------------------------------------------------------------------------

/** Creates the Cosmos client: key, Entra ID (the shared credential), or the embedded server. */
export async function createCosmosClient(config: Config): Promise<{ client: CosmosClient; embedded: EmbeddedCosmos | null }> {
  // The archiver owns throttling (it honours retry-after itself), so the SDK does not retry 429s.
  const connectionPolicy = { retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 } };
  const { endpoint, key, caFile } = config.cosmos;
  if (!endpoint) {
    // The stand-in and its certificate generator are development dependencies (absent from the image).
    const { startEmbeddedCosmos } = await import('../adapters/cosmos/embedded-cosmos-server.js').catch((err: unknown) => {
      throw new ConfigError([
        `COSMOS_ENDPOINT: not set, and the embedded Cosmos stand-in cannot load (${(err as Error).message.split('\n')[0]}); set COSMOS_ENDPOINT, or install the development dependencies (npm ci) for demo/dev`,
      ]);
    });
    const embedded = await startEmbeddedCosmos();
    const client = new CosmosClient({ endpoint: embedded.endpoint, key: embedded.key, agent: embedded.agent, connectionPolicy });
    return { client, embedded };
  }
  const agent = caFile ? new Agent({ ca: readFileSync(caFile), keepAlive: true }) : undefined;
  const auth = key ? { key } : { aadCredentials: azureCredential() };
  const client = new CosmosClient({ endpoint, ...auth, ...(agent ? { agent } : {}), connectionPolicy });
  return { client, embedded: null };
}

// ---- Service Bus ----------------------------------------------------------------------------------

/** Creates the Service Bus client from a connection string or a namespace (Entra ID); null when neither is set. */
export function createServiceBusClient(config: Config): ServiceBusClient | null {
  const { connectionString, namespace } = config.serviceBus;
  if (!connectionString && !namespace) return null;
  const retryOptions = { maxRetries: 2, timeoutInMs: 5000, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };
  if (connectionString) return new ServiceBusClient(connectionString, { retryOptions });
  const fqns = (namespace as string).includes('.') ? (namespace as string) : `${namespace}.servicebus.windows.net`;
  return new ServiceBusClient(fqns, azureCredential(), { retryOptions });
}

// ---- ACS Call Automation --------------------------------------------------------------------------

/**
 * Builds the SDK client from config: a connection string (HMAC), or ACS_ENDPOINT with Entra ID.
 * Plain http is allowed only when the endpoint itself is http (local simulator).
 * Returns null when ACS is not configured.
 */
export function createCallAutomationClient(cfg: AcsClientConfig): CallAutomationClient | null {
  const endpoint = acsEndpointOf(cfg);
  if (!endpoint) return null;
  const options: CallAutomationClientOptions = {
    allowInsecureConnection: endpoint.toLowerCase().startsWith('http:'),
    retryOptions: { maxRetries: cfg.maxRetries, retryDelayInMs: cfg.retryDelayMs, maxRetryDelayInMs: Math.max(cfg.retryDelayMs, 8000) },
  };
  if (cfg.connectionString) return new CallAutomationClient(cfg.connectionString, options);
  return new CallAutomationClient(endpoint, azureCredential(), options);
}

/**
 * The one verifier of ACS-issued JWTs (callbacks and media upgrades share it, and so its JWKS cache).
 */
export function createAcsVerifier(config: Config, jwksHooks?: JwksCacheHooks): AcsJwtVerifier {
  return createAcsJwtVerifier({
    jwksUrl: config.acs.jwksUrl,
    issuer: config.acs.jwtIssuer,
    audience: config.acs.resourceId,
    disabled: config.acs.authDisabled,
    ...(jwksHooks ? { jwksHooks } : {}),
  });
}

// ---- OpenAI / Azure OpenAI ------------------------------------------------------------------------

/**
 * Azure OpenAI (key, or Entra ID) when AZURE_OPENAI_ENDPOINT is set, else OpenAI (OPENAI_API_KEY,
 * optional OPENAI_BASE_URL).
 */
export function createOpenAIClient(cfg: Config['responder']): OpenAIClientHandle {
  const o = cfg.openai;
  if (o.azureEndpoint) {
    const deployment = o.azureDeployment ?? o.model;
    const auth = o.azureApiKey
      ? { apiKey: o.azureApiKey }
      : { azureADTokenProvider: getBearerTokenProvider(azureCredential(), COGNITIVE_SERVICES_SCOPE) };
    const client = new AzureOpenAI({ endpoint: o.azureEndpoint, deployment, apiVersion: o.azureApiVersion, timeout: cfg.timeoutMs, maxRetries: 0, ...auth });
    return { client, model: deployment, kind: 'azure' };
  }
  const client = new OpenAI({ apiKey: o.apiKey, ...(o.baseUrl ? { baseURL: o.baseUrl } : {}), timeout: cfg.timeoutMs, maxRetries: 0 });
  return { client, model: o.model, kind: 'openai' };
}

// ---- Azure AI Speech ------------------------------------------------------------------------------

/** Entra ID access tokens for Azure Speech when TTS=azure and no AZURE_SPEECH_KEY is set; else null. */
export function createSpeechTokenProvider(config: Config): (() => Promise<string>) | null {
  if (config.tts.kind !== 'azure' || config.tts.azureKey) return null;
  return getBearerTokenProvider(azureCredential(), COGNITIVE_SERVICES_SCOPE);
}

/**
 * REALTIME_PROVIDER=voicelive: the Voice Live SDK client (REALTIME_API_KEY as its KeyCredential, else
 * the process's DefaultAzureCredential: managed identity, Cognitive Services User role).
 */
export function createVoiceLiveClient(config: Config, credential?: TokenCredential): VoiceLiveClient | null {
  const rt = config.realtime;
  if (config.responder.kind !== 'realtime' || rt.provider !== 'voicelive' || !rt.url) return null;
  const { endpoint, apiVersion } = voiceLiveEndpoint(rt.url);
  return new VoiceLiveClient(endpoint, rt.apiKey ? { key: rt.apiKey } : (credential ?? azureCredential()), apiVersion ? { apiVersion } : {});
}

/** The clients the conversation loop needs (responder, Speech token). */
export function createConversationClients(config: Config): ConversationClients {
  return {
    openai: config.responder.kind === 'openai' ? createOpenAIClient(config.responder) : null,
    speechToken: createSpeechTokenProvider(config),
    // Azure OpenAI realtime without a key: managed identity (Cognitive Services User role); Voice Live's
    // SDK client takes the credential itself.
    realtimeToken:
      config.responder.kind === 'realtime' && config.realtime.provider === 'azure-openai' && !config.realtime.apiKey
        ? getBearerTokenProvider(azureCredential(), COGNITIVE_SERVICES_SCOPE)
        : null,
    voiceLive: createVoiceLiveClient(config),
  };
}
