// A private 3-node Redis Cluster (no replicas) on free ports, for the contract suite: three
// redis-server --cluster-enabled processes, joined with `redis-cli --cluster create`, ready when every
// node reports cluster_state:ok. stop() kills the nodes and removes the config directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { REDIS_INSTALL_HINT, redisServerAvailable } from './redis-server.js';

export interface PrivateRedisCluster {
  readonly nodes: readonly { host: string; port: number }[];
  /** REDIS_CLUSTER_NODES form: 127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 */
  readonly nodesEnv: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cli(port: number, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

async function waitFor(what: string, timeoutMs: number, test: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function startRedisCluster(size = 3): Promise<PrivateRedisCluster> {
  if (!redisServerAvailable()) throw new Error(REDIS_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir],
        { stdio: 'ignore' },
      );
      children.push(child);
    }
    for (const p of ports) await waitFor(`node ${p} did not answer PING`, 10_000, () => cli(p, 'ping').out.includes('PONG'));
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const p of ports) await waitFor(`node ${p} did not reach cluster_state:ok`, 20_000, () => cli(p, 'cluster', 'info').out.includes('cluster_state:ok'));
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  return { nodes, nodesEnv: nodes.map((n) => `${n.host}:${n.port}`).join(','), stop };
}

/** Deletes every key under `${appName}:` on every master of the cluster. */
export async function removeClusterKeys(nodes: readonly { host: string; port: number }[], appName: string): Promise<void> {
  const { Cluster } = await import('ioredis');
  const c = new Cluster([...nodes], { lazyConnect: true });
  await c.connect();
  try {
    for (const n of c.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await n.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) await n.del(k);
      } while (cursor !== '0');
    }
  } finally {
    c.disconnect();
  }
}
