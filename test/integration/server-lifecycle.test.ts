// The worker process end to end: health, readiness against a real (private) Redis that we stop,
// metrics, SIGTERM drain, and config errors on start.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { silentLogger } from '../../src/logger.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { testConfig } from '../support/test-env.js';

const CLI = ['--import', 'tsx/esm', 'src/cli.ts'];

describe('worker readiness against a private Redis', () => {
  let redis: PrivateRedis;
  let worker: Worker;
  let url: string;
  beforeAll(async () => {
    redis = await startRedisServer();
    worker = await createWorker(testConfig({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '200' }), silentLogger(), { defaultMetrics: false });
    url = (await worker.start()).url;
  });
  afterAll(async () => {
    await worker.stop();
    await redis.stop();
  });

  it('answers /healthz and /metrics', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const m = await fetch(`${url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toContain('text/plain');
  });

  it('stays ready (degraded, naming redis) while Redis is down: it can still take calls on its local ceiling', async () => {
    const waitFor = async (status: string) => {
      for (let i = 0; i < 100; i++) {
        const r = await fetch(`${url}/readyz`);
        const body = (await r.json()) as { status: string; degraded?: string[] };
        if (body.status === status) return { code: r.status, body };
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`readyz never reported ${status}`);
    };
    await waitFor('ok');
    await redis.stop();
    const down = await waitFor('degraded');
    expect(down.code).toBe(200);
    expect(down.body.degraded).toContain('redis');
    await redis.start();
    await waitFor('ok');
  });
});

describe('voice-worker serve (process)', () => {
  it('serves, then drains and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [...CLI, "serve"], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: process.env.TEST_REDIS_URL, APP_NAME: 'test-sigterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /"port":(\d+).*"msg":"listening"/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(out).toContain('"msg":"draining"');
    expect(out).toContain('"msg":"stopped"');
  });

  it('prints every configuration problem and exits non-zero', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve'], {
      env: { ...process.env, PORT: 'not-a-port', REDIS_URL: 'http://wrong' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(2);
    expect(err).toMatch(/PORT:/);
    expect(err).toMatch(/REDIS_URL:/);
  });
});
