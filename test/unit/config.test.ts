import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/domain/errors.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies embedded defaults to an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.appName).toBe('rtvoice');
    expect(c.appEnv).toBe('dev');
    expect(c.state.backend).toBe('memory');
    expect(c.ttl).toMatchObject({ context: 1800, history: 7200, auth: 900, tts: 86400, summary: 604800, dedup: 3600, lease: 30 });
    expect(c.media.sampleRate).toBe(16000);
  });

  it('lists every invalid variable in one error', () => {
    const problems = problemsOf({ PORT: 'eighty', REDIS_URL: 'http://nope', MEDIA_AUDIO_FORMAT: 'mp3', TTL_CONTEXT: '-5' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['MEDIA_AUDIO_FORMAT', 'PORT', 'REDIS_URL', 'TTL_CONTEXT']);
  });

  it('reports cross-field conflicts', () => {
    expect(problemsOf({ STATE_BACKEND: 'memory', REDIS_URL: 'redis://127.0.0.1:6379' })[0]).toMatch(/^STATE_BACKEND/);
    expect(problemsOf({ RESPONDER: 'openai' })[0]).toMatch(/^RESPONDER/);
  });

  it('chooses redis when REDIS_URL is given and honours TTL overrides', () => {
    const c = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6380', TTL_CONTEXT: '60', MEDIA_AUDIO_FORMAT: 'pcm24KMono' });
    expect(c.state.backend).toBe('redis');
    expect(c.state.redisUrl).toBe('redis://127.0.0.1:6380');
    expect(c.ttl.context).toBe(60);
    expect(c.media.sampleRate).toBe(24000);
  });

  it('parses cluster nodes', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' });
    expect(c.state.clusterNodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ]);
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.ttl)).toBe(true);
    expect(() => {
      (c.ttl as { context: number }).context = 1;
    }).toThrow(TypeError);
  });

  it('turns V8 allocation-site pretenuring off unless V8_PRETENURING=true', () => {
    expect(loadConfig({}).v8Pretenuring).toBe(false);
    expect(loadConfig({ V8_PRETENURING: 'true' }).v8Pretenuring).toBe(true);
    expect(problemsOf({ V8_PRETENURING: 'sometimes' }).map((p) => p.split(':')[0])).toEqual(['V8_PRETENURING']);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });

  it('.env.example documents every variable', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect(CONFIG_VARIABLES.filter((v) => !documented.has(v))).toEqual([]);
  });
});

describe('production mode', () => {
  const complete = {
    APP_ENV: 'prod',
    REDIS_HOST: 'r.redis.cache.windows.net',
    REDIS_AUTH: 'entra',
    COSMOS_ENDPOINT: 'https://c.documents.azure.com:443/',
    SERVICEBUS_NAMESPACE: 'sb-voice',
    ACS_ENDPOINT: 'https://acs.communication.azure.com',
    ACS_RESOURCE_ID: '00000000-0000-0000-0000-000000000001',
    EVENTGRID_WEBHOOK_KEY: 'k'.repeat(32),
    ACS_COGNITIVE_SERVICES_ENDPOINT: 'https://ai.cognitiveservices.azure.com/',
    PUBLIC_BASE_URL: 'https://voice.example.com',
  };

  it('a complete Azure configuration loads in production mode', () => {
    const c = loadConfig(complete);
    expect(c.mode).toBe('production');
    expect(c.state.backend).toBe('redis');
    expect(c.state.redisUrl).toBe('rediss://r.redis.cache.windows.net:6380');
    expect(c.state.auth).toEqual({ kind: 'entra', username: undefined });
  });

  it.each(Object.keys(complete).filter((k) => k !== 'APP_ENV' && k !== 'REDIS_AUTH'))('refuses to start without %s', (name) => {
    const env: Record<string, string> = { ...complete };
    delete env[name];
    expect(problemsOf(env).map((p) => p.split(':')[0])).toEqual([name]);
  });

  it('refuses memory state, disabled ACS auth and a plain-http public URL', () => {
    const problems = problemsOf({ ...complete, REDIS_HOST: '', REDIS_AUTH: '', STATE_BACKEND: 'memory', ACS_AUTH_DISABLED_DEV_ONLY: 'true', PUBLIC_BASE_URL: 'http://voice.example.com' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['ACS_AUTH_DISABLED_DEV_ONLY', 'PUBLIC_BASE_URL', 'STATE_BACKEND']);
  });

  it('VOICE_MODE=production applies it to any APP_ENV; dev, test and demo keep the embedded defaults', () => {
    expect(problemsOf({ APP_ENV: 'dev', VOICE_MODE: 'production' }).length).toBe(8);
    for (const APP_ENV of ['dev', 'test', 'demo']) expect(loadConfig({ APP_ENV }).mode).toBe('development');
    expect(problemsOf({ APP_ENV: 'staging' }).length).toBe(8);
  });

  it('the archiver needs no ACS', () => {
    const { ACS_ENDPOINT: _a, ACS_RESOURCE_ID: _b, EVENTGRID_WEBHOOK_KEY: _c, ACS_COGNITIVE_SERVICES_ENDPOINT: _d, PUBLIC_BASE_URL: _e, ...archiverEnv } = complete;
    expect(loadConfig(archiverEnv, 'archiver').mode).toBe('production');
    expect(problemsOf(archiverEnv).length).toBe(5);
  });

  it('schema, cross-field and production problems arrive in one error', () => {
    const problems = problemsOf({ APP_ENV: 'prod', PORT: 'y', STATE_BACKEND: 'memory', REDIS_URL: 'redis://h:6379' });
    expect(problems.some((p) => p.startsWith('PORT:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('STATE_BACKEND: is memory but'))).toBe(true);
    expect(problems.some((p) => p.startsWith('COSMOS_ENDPOINT: required in production'))).toBe(true);
  });
});

describe('Redis credentials', () => {
  it('REDIS_HOST + REDIS_PASSWORD carries any key, / + = included, outside the URL', () => {
    const c = loadConfig({ REDIS_HOST: '127.0.0.1', REDIS_PORT: '6390', REDIS_PASSWORD: 'a/b+c=' });
    expect(c.state.redisUrl).toBe('redis://127.0.0.1:6390');
    expect(c.state.auth).toEqual({ kind: 'key', username: undefined, password: 'a/b+c=' });
  });

  it('an Azure host defaults to TLS on 6380', () => {
    expect(loadConfig({ REDIS_HOST: 'x.redis.cache.windows.net', REDIS_PASSWORD: 'k' }).state.redisUrl).toBe('rediss://x.redis.cache.windows.net:6380');
  });

  it('entra refuses a password and a non-TLS URL; key needs a password; one way to reach Redis', () => {
    expect(problemsOf({ REDIS_HOST: 'h', REDIS_AUTH: 'entra', REDIS_PASSWORD: 'p' })[0]).toMatch(/^REDIS_PASSWORD/);
    expect(problemsOf({ REDIS_URL: 'redis://h:6379', REDIS_AUTH: 'entra' })[0]).toMatch(/^REDIS_AUTH: entra needs TLS/);
    expect(problemsOf({ REDIS_HOST: 'h', REDIS_AUTH: 'key' })[0]).toMatch(/^REDIS_PASSWORD: required/);
    expect(problemsOf({ REDIS_HOST: 'h', REDIS_URL: 'redis://h:6379' })[0]).toMatch(/^REDIS_HOST: set together with REDIS_URL/);
  });

  it('a malformed URL is named, never thrown as TypeError, never echoed', () => {
    const problems = problemsOf({ REDIS_URL: 'rediss://:se/cr+et=@h:6380', COSMOS_ENDPOINT: 'nope' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['COSMOS_ENDPOINT', 'REDIS_URL']);
    expect(problems.join('\n')).not.toContain('se/cr+et=');
  });
});
