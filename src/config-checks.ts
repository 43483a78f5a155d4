// The rules on the raw environment that the per-variable schema (config.ts) cannot express: cross-field
// rules, and in production the stand-ins that are not allowed. They return problems, never throw, so
// loadConfig lists them with the schema's in one ConfigError.
import type { ConfigRole } from './config-types.js';
import { realtimeCrossCheck } from './config-realtime.js';

/** The protocol of `v`, or null when it is not a URL (never throws). */
export function protocolOf(v: string): string | null {
  try {
    return new URL(v).protocol;
  } catch {
    return null;
  }
}

/** APP_ENV values that mean a developer's machine, a test or the demo: stand-ins allowed. */
export const DEVELOPMENT_ENVS: readonly string[] = ['dev', 'development', 'local', 'test', 'demo', 'bench'];

export type Input = Readonly<Record<string, string | undefined>>;

/**
 * Cross-field rules the per-variable schema cannot express. Runs on the raw strings, next to the
 * schema, so every problem is reported in the same error. Returns problems, never throws.
 */
export function crossCheck(raw: Input): string[] {
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
export function modeOf(raw: Input): 'production' | 'development' {
  if (raw.VOICE_MODE === 'production' || raw.VOICE_MODE === 'development') return raw.VOICE_MODE;
  return DEVELOPMENT_ENVS.includes(raw.APP_ENV ?? 'dev') ? 'development' : 'production';
}

/**
 * Production mode: every stand-in is an error, so a replica never answers calls on in-process state,
 * an in-process Cosmos (lost at restart), an in-process queue, or without ACS authentication.
 * `role` archiver needs only what the archive consumer uses.
 */
export function productionCheck(raw: Input, role: ConfigRole): string[] {
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
