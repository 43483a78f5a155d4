// What the benches that run `serve` in its own process share: a free loopback port, a private
// redis-server (no persistence), the base env of a `serve` process and reading one sample from Prometheus text.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server on a free loopback port; resolves once it accepts connections. */
export async function startRedis() {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const c = createServer().listen(port, '127.0.0.1');
      c.once('listening', () => c.close(() => r(false)));
      c.once('error', () => r(true));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, stop: async () => { proc.kill('SIGTERM'); await once(proc, 'exit'); } };
}

/**
 * The env every bench's `serve` process starts from: no inherited variables beyond PATH and HOME, the
 * simulated ACS's settings, and loopback on `port`. Each bench adds what it measures.
 */
export function serveEnv(sim, port) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...sim.workerEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  };
}

export /** The value of a Prometheus sample (sum over matching series); NaN when absent. */
function metric(text, name, labels = {}) {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name} `) || line.startsWith(`${name}{`))) continue;
    const inside = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    if (!Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    seen = true;
  }
  return seen ? sum : NaN;
}
