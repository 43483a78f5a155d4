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
