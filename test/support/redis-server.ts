// A private redis-server on a free port, for tests that must stop and restart Redis (outages), or
// when no REDIS_URL is given. No persistence; stopped with `shutdown nosave`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './free-port.js';

export const REDIS_INSTALL_HINT =
  'redis-server was not found on PATH and REDIS_URL is not set. Install it (Debian/Ubuntu: `apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL=redis://host:port.';

export function redisServerAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() - started > timeoutMs) reject(new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Starts (or restarts) the server on the same port. */
  start(): Promise<void>;
  /** Stops it abruptly (no save); connections drop. */
  stop(): Promise<void>;
  readonly running: boolean;
  /** Sends a signal to the server process (SIGSTOP / SIGCONT freeze and thaw it). */
  signal(sig: NodeJS.Signals): void;
}

export async function startRedisServer(opts: { port?: number; extraArgs?: string[] } = {}): Promise<PrivateRedis> {
  if (!redisServerAvailable()) throw new Error(REDIS_INSTALL_HINT);
  const port = opts.port ?? (await freePort());
  let child: ChildProcess | null = null;
  const handle: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== null;
    },
    async start() {
      if (child) return;
      const c = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...(opts.extraArgs ?? [])],
        { stdio: 'ignore' },
      );
      child = c;
      c.once('exit', () => {
        if (child === c) child = null;
      });
      await waitForPort(port, 10_000);
    },
    signal(sig) {
      child?.kill(sig);
    },
    async stop() {
      const c = child;
      c?.kill('SIGCONT');
      if (!c) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGKILL');
      await exited;
      child = null;
    },
  };
  await handle.start();
  return handle;
}
