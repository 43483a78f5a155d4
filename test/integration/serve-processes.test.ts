// `voice-worker serve --processes 2` as a real process tree against the test Redis: both worker
// processes serve the one port (each answers with its own WORKER_ID in /metrics), a worker killed with
// SIGKILL is replaced under a new WORKER_ID, and SIGTERM to the primary drains both and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { removeKeys, testAppName, testRedisUrl } from '../support/test-env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** GET /metrics on a fresh connection (no keep-alive: each request is a new accept, balanced anew). */
function workerOf(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/metrics', agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(/worker="([^"]+)"/.exec(body)?.[1] ?? null));
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number, what: () => string): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms; output:\n${what()}`);
}

/** Distinct WORKER_IDs seen over `tries` fresh connections. */
async function workersSeen(port: number, tries: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries; i++) {
    const w = await workerOf(port);
    if (w) seen.add(w);
  }
  return seen;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('voice-worker serve --processes 2', () => {
  const appName = testAppName();
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await removeKeys(testRedisUrl(), appName);
  });

  it('runs two replicas on one port, replaces one that dies, and drains both on SIGTERM', { timeout: 150_000 }, async () => {
    const port = await freePort();
    const base = `tp-${appName.slice(5, 13)}`;
    let out = '';
    child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'serve', '--processes', '2'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        REDIS_URL: testRedisUrl(),
        APP_NAME: appName,
        APP_ENV: 'test',
        WORKER_ID: base,
        SPOOL_DIR: join(tmpdir(), 'voice-worker-test', appName),
        // Bounds the primary's wait: a worker still running 5 s + 15 s after SIGTERM is killed (exit 1).
        SHUTDOWN_DRAIN_TIMEOUT_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    // Both processes listen on the same port, each with its own WORKER_ID.
    const pids = await until(
      async () => {
        const lines = [...out.matchAll(/"pid":(\d+)[^\n]*"workerId":"([^"]+)"[^\n]*"msg":"listening"/g)];
        return lines.length >= 2 ? new Map(lines.map((m) => [m[2]!, Number(m[1])])) : undefined;
      },
      45_000,
      () => out,
    );
    expect([...pids.keys()].sort()).toEqual([`${base}-p1`, `${base}-p2`]);
    expect(pids.get(`${base}-p1`)).not.toBe(pids.get(`${base}-p2`));
    const seen = await until(
      async () => {
        const s = await workersSeen(port, 10);
        return s.size === 2 ? s : undefined;
      },
      15_000,
      () => out,
    );
    expect([...seen].sort()).toEqual([`${base}-p1`, `${base}-p2`]);

    // A worker that dies is replaced, as a new replica (new WORKER_ID: the dead one's leases expire).
    const victim = pids.get(`${base}-p2`)!;
    process.kill(victim, 'SIGKILL');
    await until(async () => ((await workersSeen(port, 10)).has(`${base}-p2r1`) ? true : undefined), 30_000, () => out);
    expect(out).toContain('"msg":"worker process died; restarting"');
    const replacement = Number(/"pid":(\d+)[^\n]*"workerId":"[^"]+-p2r1"[^\n]*"msg":"listening"/.exec(out)![1]);

    // SIGTERM to the primary drains every worker; the primary exits 0 once both have stopped.
    child.kill('SIGTERM');
    const [code, signal] = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`primary still running 40 s after SIGTERM:\n${out}`)), 40_000)),
    ]);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(out.match(/"msg":"draining"/g)?.length).toBe(2);
    expect(out.match(/"msg":"worker process stopped"/g)?.length).toBe(2);
    expect(alive(pids.get(`${base}-p1`)!)).toBe(false);
    expect(alive(replacement)).toBe(false);
    expect(await workerOf(port)).toBeNull();
  });

  it('gives up with exit code 1 when workers keep dying (here: the port is taken), instead of restarting forever', { timeout: 120_000 }, async () => {
    const blocker = createServer();
    let proc: ChildProcess | undefined;
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      let out = '';
      proc = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'serve', '--processes', '2'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: testRedisUrl(), APP_NAME: appName, APP_ENV: 'test', SPOOL_DIR: join(tmpdir(), 'voice-worker-test', appName) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = (await Promise.race([
        once(proc, 'exit'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`primary still running after 100 s:\n${out}`)), 100_000)),
      ])) as [number | null];
      expect(code).toBe(1);
      expect(out).toContain('"msg":"worker process died too often; stopping every process"');
      expect(out.match(/"msg":"worker process died; restarting"/g)?.length).toBe(5);
    } finally {
      // A primary still running here has failed the test; its workers exit when it dies.
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
