// The fault suite (`npm run faults`): real faults against real processes on loopback. Per scenario:
// a private redis-server on a free port, a Cosmos-compatible server and a local Service Bus (AMQP)
// peer shared by the replicas, two `serve` replicas (node dist/cli.js serve, real child processes)
// behind a round-robin TCP balancer (every new connection to the next replica, as an ingress without
// session affinity), and the project's simulator as ACS placing calls through the balancer. One row
// per fault: calls placed / succeeded / dropped, caller turns spoken / archived, keys without TTL,
// media sessions and calls leaked. Output goes to stdout and bench/results/faults-<UTC time>.txt.
// Every scenario is bounded in time and stops by itself. Usage: npm run faults [-- <scenario> ...]
// Each replica's log (JSON lines, level FAULTS_LOG_LEVEL, default info) goes to
// bench/results/faults-logs/<UTC time>/<scenario>-<replica>.log (not committed) for diagnosis.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CosmosClient } from '@azure/cosmos';
import { Redis } from 'ioredis';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../src/adapters/cosmos/embedded-cosmos-server.js';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { AmqpPeer } from '../support/amqp-peer.js';
import { freePort } from '../support/free-port.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { startBalancer, type TcpBalancer } from '../support/tcp-balancer.js';
import { keysWithoutTtl } from '../support/ttl-scan.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[faults] ${msg}\n`);
const RUN_STAMP = new Date().toISOString().slice(0, 16).replace(/:/g, '');
const LOG_DIR = join(ROOT, 'bench', 'results', 'faults-logs', RUN_STAMP);
let currentScenario = 'scenario';

interface Replica {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly output: string[];
}

interface Rig {
  readonly appName: string;
  readonly redis: PrivateRedis;
  readonly cosmos: EmbeddedCosmos;
  readonly cosmosClient: CosmosClient;
  readonly peer: AmqpPeer;
  readonly sim: Simulator;
  readonly balancer: TcpBalancer;
  readonly dir: string;
  readonly replicas: Replica[];
  /** Cosmos answers 429 to writes while set. */
  throttle: boolean;
  start(name: string, spool: string, extra?: Record<string, string>): Promise<Replica>;
  route(): void;
}

interface Row {
  readonly fault: string;
  readonly placed: number;
  readonly succeeded: number;
  readonly dropped: number;
  readonly spoken: number;
  readonly archived: number;
  readonly keysWithoutTtl: number;
  readonly leaked: number;
  readonly notes: string;
}

async function waitReady(url: string, proc: Replica['exited'], output: string[], timeoutMs = 60_000): Promise<void> {
  let gone = false;
  void proc.then(() => (gone = true));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (gone) throw new Error(`replica exited before ready:\n${output.join('').slice(-2000)}`);
    const res = await fetch(`${url}/readyz`).catch(() => null);
    if (res?.status === 200) return;
    await sleep(200);
  }
  throw new Error(`replica at ${url} not ready within ${timeoutMs} ms`);
}

async function startRig(env: Record<string, string> = {}): Promise<Rig> {
  const appName = `faults-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'voice-faults-'));
  const redis = await startRedisServer();
  const cosmos = await startEmbeddedCosmos();
  const caFile = join(dir, 'cosmos-ca.pem');
  writeFileSync(caFile, cosmos.cert);
  const peer = await AmqpPeer.start();
  const sim = await startSimulator();
  const balancer = await startBalancer([]);
  const rig: Rig = {
    appName,
    redis,
    cosmos,
    cosmosClient: new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, agent: cosmos.agent }),
    peer,
    sim,
    balancer,
    dir,
    replicas: [],
    throttle: false,
    async start(name, spool, extra = {}) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const proc = spawn(process.execPath, ['dist/cli.js', 'serve'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ...sim.workerEnv(),
          APP_NAME: appName,
          APP_ENV: 'faults',
          // Local stand-ins everywhere (simulator, embedded Cosmos, AMQP peer, plain http): development mode.
          VOICE_MODE: 'development',
          REDIS_URL: redis.url,
          REDIS_COMMAND_TIMEOUT_MS: '500',
          COSMOS_ENDPOINT: cosmos.endpoint,
          COSMOS_KEY: cosmos.key,
          COSMOS_CA_FILE: caFile,
          SERVICEBUS_CONNECTION_STRING: peer.connectionString(),
          SPOOL_DIR: join(dir, spool),
          SHUTDOWN_DRAIN_TIMEOUT_MS: '30000',
          HOST: '127.0.0.1',
          PORT: String(port),
          PUBLIC_BASE_URL: balancer.url,
          // Each replica's own address for the others (not the balancer): transcription reaches the owner while Redis cannot.
          PEER_URL: url,
          WORKER_ID: `${name}-${randomUUID().slice(0, 6)}`,
          LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'info',
          ...env,
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      mkdirSync(LOG_DIR, { recursive: true });
      const file = createWriteStream(join(LOG_DIR, `${currentScenario}-${name}.log`));
      proc.once('close', () => file.end());
      const keep = (c: Buffer) => {
        file.write(c);
        output.push(c.toString());
        if (output.length > 400) output.splice(0, 100);
      };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      const r: Replica = { name, port, url, proc, exited, output };
      await waitReady(url, exited, output);
      rig.replicas.push(r);
      return r;
    },
    route() {
      balancer.setTargets(rig.replicas.filter((r) => r.proc.exitCode === null && !r.proc.killed).map((r) => ({ host: '127.0.0.1', port: r.port })));
    },
  };
  // Cosmos throttling on demand: 429 with a retry-after to every write while `throttle` is set.
  const handlers = cosmos.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  cosmos.server.removeAllListeners('request');
  cosmos.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (rig.throttle && req.method !== 'GET' && /\/docs/.test(req.url ?? '')) {
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json', 'x-ms-retry-after-ms': '500', 'x-ms-substatus': '3200' });
      res.end(JSON.stringify({ code: 'TooManyRequests', message: 'Request rate is large' }));
      return;
    }
    for (const h of handlers) h(req, res);
  });
  return rig;
}

async function stopRig(rig: Rig): Promise<void> {
  for (const r of rig.replicas) if (r.proc.exitCode === null) r.proc.kill('SIGTERM');
  await Promise.race([Promise.all(rig.replicas.map((r) => r.exited)), sleep(40_000)]);
  for (const r of rig.replicas) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
  await rig.sim.close();
  await rig.balancer.close();
  await rig.peer.close();
  rig.cosmosClient.dispose();
  await rig.cosmos.close();
  await rig.redis.stop();
  rmSync(rig.dir, { recursive: true, force: true });
}

function callIdOf(call: SimCall): string | null {
  const u = call.answer?.callbackUri;
  return u ? new URL(u).searchParams.get('callId') : null;
}

/** One metric summed over its series (0 when absent). */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const LEAK_RECHECK_MS = 20_000;

/** Media sessions and live calls still held by the running replicas, with a per-replica breakdown. */
async function leftovers(rig: Rig): Promise<{ total: number; detail: string }> {
  let total = 0;
  const parts: string[] = [];
  for (const r of rig.replicas) {
    if (r.proc.exitCode !== null) continue;
    const text = await (await fetch(`${r.url}/metrics`)).text().catch(() => '');
    const sessions = metricSum(text, 'voice_media_sessions');
    const calls = metricSum(text, 'voice_calls');
    total += sessions + calls;
    const phases = text
      .split('\n')
      .filter((l) => l.startsWith('voice_calls{') && !l.endsWith(' 0'))
      .map((l) => `${/phase="([^"]+)"/.exec(l)?.[1] ?? '?'} ${l.slice(l.lastIndexOf(' ') + 1)}`);
    if (sessions + calls > 0) parts.push(`${r.name}: ${sessions} sessions, ${calls} calls${phases.length > 0 ? ` (${phases.join(', ')})` : ''}`);
  }
  return { total, detail: parts.join(', ') };
}

async function archivedUserTurns(rig: Rig, callIds: string[], wantCalls: number, timeoutMs: number): Promise<{ turns: number; docs: number }> {
  const container = rig.cosmosClient.database('voice').container('transcripts');
  const until = Date.now() + timeoutMs;
  let turns = 0;
  let docs = 0;
  do {
    turns = 0;
    docs = 0;
    for (const id of callIds) {
      const { resources } = await container.items
        .query<{ turns: { speaker: string }[] }>({ query: 'SELECT c.turns FROM c WHERE c.callId = @id', parameters: [{ name: '@id', value: id }] })
        .fetchAll()
        .catch(() => ({ resources: [] as { turns: { speaker: string }[] }[] }));
      const doc = resources[0];
      if (!doc) continue;
      docs++;
      turns += doc.turns.filter((t) => t.speaker === 'user').length;
    }
    if (docs >= wantCalls) break;
    await sleep(1000);
  } while (Date.now() < until);
  return { turns, docs };
}

interface ScenarioSpec {
  readonly name: string;
  readonly calls: number;
  readonly durationS: number;
  readonly faultAtS: number;
  readonly env?: Record<string, string>;
  /** What the simulator (as ACS) does when a replica holding a stream dies (default: re-open it). */
  readonly streamReconnect?: 'reconnect' | 'none';
  readonly fault: (rig: Rig) => Promise<string | void>;
}

async function runScenario(spec: ScenarioSpec): Promise<Row> {
  log(`${spec.name}: starting`);
  currentScenario = spec.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  const rig = await startRig(spec.env);
  let notes = '';
  try {
    await rig.start('a', 'spool-a');
    await rig.start('b', 'spool-b');
    rig.route();
    const before = rig.sim.calls.length;
    const run = rig.sim.runCalls({ target: `${rig.balancer.url}/api/incoming-call`, calls: spec.calls, concurrency: spec.calls, rampS: 2, scenario: 'qa', durationS: spec.durationS, streamReconnect: spec.streamReconnect ?? 'reconnect' });
    await sleep(spec.faultAtS * 1000);
    log(`${spec.name}: fault`);
    notes = (await spec.fault(rig)) ?? '';
    const report = await run;
    const calls = rig.sim.calls.slice(before);
    const callIds = calls.map(callIdOf).filter((id): id is string => id !== null);
    const spoken = calls.reduce((n, c) => n + (c.callerTurns ?? []).filter((t) => t.finalAt !== undefined).length, 0);
    const { turns: archived } = await archivedUserTurns(rig, callIds, callIds.length, 60_000);
    // Let the replicas settle (finalizers, lease drops), then look for leftovers.
    await sleep(2000);
    const left = await leftovers(rig);
    const leaked = left.total;
    if (leaked > 0) {
      // What is left and where (by call phase), and whether it is gone a while later (lingering) or not (leaked).
      await sleep(LEAK_RECHECK_MS);
      const later = await leftovers(rig);
      notes = [notes, `left: ${left.detail}; ${LEAK_RECHECK_MS / 1000} s later: ${later.total === 0 ? 'none' : later.detail}`].filter(Boolean).join('; ');
    }
    const noTtl = (await keysWithoutTtl(rig.redis.url, rig.appName)).length;
    const failures = Object.entries(report.failuresByCause).map(([k, v]) => `${k}×${v}`).join(' ');
    return {
      fault: spec.name,
      placed: report.calls.requested,
      succeeded: report.calls.succeeded,
      dropped: report.calls.requested - report.calls.succeeded,
      spoken,
      archived,
      keysWithoutTtl: noTtl,
      leaked,
      notes: [notes, failures].filter(Boolean).join('; '),
    };
  } finally {
    await stopRig(rig);
    log(`${spec.name}: done`);
  }
}

/**
 * SIGKILL mid-call of the replica that holds the most calls' audio (the balancer's alternation decides
 * which): which calls it held, whether their leases expire or are taken over, whether their
 * conversations stay readable.
 */
async function sigkill(rig: Rig): Promise<string> {
  const keys = new RedisKeys({ appName: rig.appName, appEnv: 'faults' });
  const probe = new Redis(rig.redis.url);
  try {
    const byReplica = new Map<string, string[]>();
    let cursor = '0';
    do {
      const [next, found] = await probe.scan(cursor, 'MATCH', `${keys.prefix}:call:*:owner`, 'COUNT', 1000);
      cursor = next;
      for (const k of found) {
        const owner = (await probe.get(k)) ?? '';
        const name = owner.slice(owner.indexOf(':') + 1, owner.indexOf('-'));
        byReplica.set(name, [...(byReplica.get(name) ?? []), k]);
      }
    } while (cursor !== '0');
    const victim = [...rig.replicas].sort((x, y) => (byReplica.get(y.name)?.length ?? 0) - (byReplica.get(x.name)?.length ?? 0))[0] as Replica;
    const owners = byReplica.get(victim.name) ?? [];
    const tag = `:${victim.name}-`;
    victim.proc.kill('SIGKILL');
    await victim.exited;
    rig.replicas.splice(rig.replicas.indexOf(victim), 1);
    rig.route();
    await sleep(7000);
    let moved = 0;
    let readable = 0;
    for (const k of owners) {
      // Gone (expired) or re-taken by a live replica (a higher fence, another owner).
      if (!((await probe.get(k)) ?? '').includes(tag)) moved++;
      const id = k.slice(k.indexOf('{') + 1, k.indexOf('}'));
      if ((await probe.zcard(keys.conversationHistory(id))) > 0) readable++;
    }
    return `killed replica held ${owners.length} calls: leases expired or taken over ${moved}/${owners.length}, conversations readable ${readable}/${owners.length}`;
  } finally {
    probe.disconnect();
  }
}

const SCENARIOS: ScenarioSpec[] = [
  {
    name: 'redis restarted empty after 2 s down',
    calls: 10,
    durationS: 24,
    faultAtS: 6,
    async fault(rig) {
      await rig.redis.stop();
      await sleep(2000);
      await rig.redis.start();
    },
  },
  {
    name: 'redis restarted empty after 8 s down',
    calls: 10,
    durationS: 28,
    faultAtS: 6,
    async fault(rig) {
      await rig.redis.stop();
      await sleep(8000);
      await rig.redis.start();
    },
  },
  {
    name: 'redis frozen (SIGSTOP) 35 s > TTL_LEASE 30 s',
    calls: 10,
    durationS: 50,
    faultAtS: 6,
    async fault(rig) {
      rig.redis.signal('SIGSTOP');
      await sleep(35_000);
      rig.redis.signal('SIGCONT');
    },
  },
  {
    name: 'SIGTERM of one replica with live calls; a new one on its spool',
    calls: 10,
    durationS: 20,
    faultAtS: 8,
    async fault(rig) {
      const a = rig.replicas[0] as Replica;
      const live = metricSum(await (await fetch(`${a.url}/metrics`)).text(), 'voice_calls');
      // The ingress stops sending new connections to a terminating replica.
      a.proc.kill('SIGTERM');
      rig.replicas.splice(0, 1);
      rig.route();
      await rig.start('c', 'spool-a');
      rig.route();
      const code = await Promise.race([a.exited, sleep(45_000).then(() => 'hung' as const)]);
      return `${live} live on the terminated replica; it exited ${String(code)}`;
    },
  },
  ...(['reconnect', 'none'] as const).map(
    (mode): ScenarioSpec => ({
      name: mode === 'reconnect' ? 'SIGKILL of one replica (ACS re-opens the stream)' : 'SIGKILL of one replica (ACS does not; the worker restarts streaming)',
      calls: 10,
      durationS: 30,
      faultAtS: 8,
      env: { TTL_LEASE: '6' },
      streamReconnect: mode,
      fault: (rig) => sigkill(rig),
    }),
  ),
  {
    name: 'Service Bus peer down 30 s',
    calls: 10,
    durationS: 12,
    faultAtS: 4,
    async fault(rig) {
      await rig.peer.stop();
      await sleep(30_000);
      await rig.peer.start();
    },
  },
  {
    name: 'Cosmos 429 for 30 s',
    calls: 10,
    durationS: 12,
    faultAtS: 4,
    async fault(rig) {
      rig.throttle = true;
      await sleep(30_000);
      rig.throttle = false;
    },
  },
];

function table(rows: readonly Row[]): string {
  const head = ['fault', 'placed', 'succeeded', 'dropped', 'caller turns spoken', 'caller turns archived', 'keys without TTL', 'sessions leaked', 'notes'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${[r.fault, r.placed, r.succeeded, r.dropped, r.spoken, r.archived, r.keysWithoutTtl, r.leaked, r.notes].join(' | ')} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const specs = only.length > 0 ? SCENARIOS.filter((s) => only.some((o) => s.name.includes(o))) : SCENARIOS;
  const started = new Date();
  const rows: Row[] = [];
  for (const spec of specs) {
    try {
      rows.push(await runScenario(spec));
    } catch (err) {
      rows.push({ fault: spec.name, placed: 0, succeeded: 0, dropped: 0, spoken: 0, archived: 0, keysWithoutTtl: 0, leaked: 0, notes: `scenario error: ${(err as Error).message.slice(0, 200)}` });
    }
    log(table(rows.slice(-1)));
  }
  const command = `npm run faults${only.length > 0 ? ` -- ${only.map((o) => JSON.stringify(o)).join(' ')}` : ''}`;
  const out = [
    `# Fault suite, ${started.toISOString()}`,
    `command: ${command}`,
    `node ${process.version}; two serve replicas (node dist/cli.js serve) behind a round-robin TCP balancer; private redis-server; local Cosmos-compatible server; local AMQP peer; simulator placing calls (scenario qa) with rampS 2`,
    '',
    table(rows),
    '',
  ].join('\n');
  process.stdout.write(out);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().slice(0, 16).replace(/:/g, '');
  writeFileSync(join(dir, `faults-${stamp}.txt`), out);
  log(`saved bench/results/faults-${stamp}.txt`);
  const bad = rows.some((r) => r.dropped > 0 || r.archived < r.spoken || r.keysWithoutTtl > 0 || r.leaked > 0);
  process.exitCode = bad ? 1 : 0;
}

await main();
// Every scenario stopped its processes and servers; a handle left by a killed replica's pipes must not
// keep the suite (and the bench lock) alive.
process.exit(process.exitCode ?? 0);
