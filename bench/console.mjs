// Console under load: two `serve` replicas (processes of their own, private redis-server, local
// responder and TTS) carrying --calls live simulated calls (half answered by each; every call that
// ends is replaced, so the call count and turn rate stay level), first with no console for
// --phase-s seconds, then with --consoles SSE clients (bench/lib/console-clients.mjs, another
// process) signed in on both replicas for another --phase-s. Reported: push latency from a stored
// turn to the client (p50/p95/p99), each worker's CPU (process_cpu_seconds_total) per second in
// both phases and the difference, and the hit ratio of each console cache. Writes
// bench/results/console-<UTC timestamp>.json with the load average before and after.
//   npm run build && node bench/console.mjs [--calls=200] [--consoles=20] [--phase-s=30] [--out=DIR]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/simulator.js';
import { machine, outDir, writeResult } from './lib/results.mjs';
import { freePort, metric, serveEnv } from './lib/procs.mjs';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const CALLS = Number(arg('calls', '200'));
const CONSOLES = Number(arg('consoles', '20'));
const PHASE_S = Number(arg('phase-s', '30'));
const WARM_S = Number(arg('warm-s', '20'));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = `console-bench-operator-${process.pid}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const metrics = async (url) => (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
const cpu = async (url) => metric(await metrics(url), 'voice_process_cpu_seconds_total');
const round = (v, d = 3) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 10 ** d) / 10 ** d);

const before = machine();
console.log(`console bench: ${CALLS} live calls on 2 replicas, ${CONSOLES} consoles, phases of ${PHASE_S} s, load ${before.loadAverage.join(' ')}`);
const redisPort = await freePort();
const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await sleep(300);
const sim = await startSimulator({});
const spool = mkdtempSync(join(tmpdir(), 'console-bench-'));
const workers = [];
for (const name of ['a', 'b']) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, ['dist/cli.js', 'serve', '--processes', '1'], {
    cwd: ROOT,
    env: {
      ...serveEnv(sim, port),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      APP_NAME: `console-bench-${process.pid}`,
      APP_ENV: 'bench',
      WORKER_ID: `w-${name}`,
      API_TOKEN: TOKEN,
      LOG_LEVEL: 'error',
      SPOOL_DIR: join(spool, name),
      MAX_CONCURRENT_CALLS: String(CALLS * 2),
      INCOMING_CALLS_PER_WINDOW: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  workers.push({ name, url, proc });
}
let runs = [];
try {
  for (const w of workers) {
    for (let i = 0; ; i++) {
      if ((await fetch(`${w.url}/readyz`).catch(() => null))?.status === 200) break;
      if (w.proc.exitCode !== null || i > 600) throw new Error(`worker ${w.name} not ready`);
      await sleep(100);
    }
  }
  // Level load: each replica answers CALLS/2 calls at once; each call that ends is replaced.
  runs = workers.map((w) =>
    sim.runCalls({ target: `${w.url}/api/incoming-call`, calls: CALLS * 20, concurrency: CALLS / 2, scenario: 'qa,barge-in,dtmf+qa', durationS: 0, rampS: 10 }).catch((err) => ({ error: String(err) })),
  );
  await sleep((10 + WARM_S) * 1000);
  const cpu0 = await Promise.all(workers.map((w) => cpu(w.url)));
  const live0 = await Promise.all(workers.map(async (w) => metric(await metrics(w.url), 'voice_calls')));
  await sleep(PHASE_S * 1000);
  const cpu1 = await Promise.all(workers.map((w) => cpu(w.url)));
  const clients = spawn(process.execPath, ['bench/lib/console-clients.mjs', `--urls=${workers.map((w) => w.url).join(',')}`, `--clients=${CONSOLES}`, `--token=${TOKEN}`, `--seconds=${PHASE_S + 3}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  clients.stdout.on('data', (d) => (out += d));
  await sleep(3000);
  const cpu2 = await Promise.all(workers.map((w) => cpu(w.url)));
  await sleep(PHASE_S * 1000);
  const cpu3 = await Promise.all(workers.map((w) => cpu(w.url)));
  const live1 = await Promise.all(workers.map(async (w) => metric(await metrics(w.url), 'voice_calls')));
  await once(clients, 'exit');
  const consoleReport = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
  const texts = await Promise.all(workers.map((w) => metrics(w.url)));
  const caches = {};
  for (const cache of ['active-calls', 'summary', 'campaigns']) {
    const hit = texts.reduce((a, t) => a + (metric(t, 'voice_console_cache_total', { cache, result: 'hit' }) || 0), 0);
    const miss = texts.reduce((a, t) => a + (metric(t, 'voice_console_cache_total', { cache, result: 'miss' }) || 0), 0);
    caches[cache] = { hit, miss, hitRatio: round(hit + miss > 0 ? hit / (hit + miss) : null) };
  }
  const perS = (x, y) => (y - x) / PHASE_S;
  const cpuReport = workers.map((w, i) => ({
    worker: w.name,
    withoutConsolesCpuPerS: round(perS(cpu0[i], cpu1[i])),
    withConsolesCpuPerS: round(perS(cpu2[i], cpu3[i])),
    addedCpuPerS: round(perS(cpu2[i], cpu3[i]) - perS(cpu0[i], cpu1[i])),
  }));
  const summary = {
    kind: 'console',
    command: `node bench/console.mjs --calls=${CALLS} --consoles=${CONSOLES} --phase-s=${PHASE_S}`,
    before,
    liveCallsAtPhaseStart: live0,
    liveCallsAtEnd: live1,
    consoles: consoleReport,
    cpu: cpuReport,
    busLagP: texts.map((t) => ({ count: metric(t, 'voice_console_bus_lag_seconds_count'), meanMs: round((metric(t, 'voice_console_bus_lag_seconds_sum') / metric(t, 'voice_console_bus_lag_seconds_count')) * 1000, 2) })),
    streamsDropped: texts.map((t) => metric(t, 'voice_console_streams_dropped_total') || 0),
    caches,
    after: machine(),
  };
  const file = writeResult(outDir(), 'console', '', summary);
  console.log(JSON.stringify(summary, null, 2));
  console.log(`wrote ${file}`);
} finally {
  await sim.close().catch(() => undefined);
  await Promise.allSettled(runs);
  for (const w of workers) w.proc.kill('SIGTERM');
  await Promise.all(workers.map((w) => (w.proc.exitCode === null ? once(w.proc, 'exit') : null)));
  redis.kill('SIGKILL');
  rmSync(spool, { recursive: true, force: true });
}
process.exit(0);
