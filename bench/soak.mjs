// Soak: `serve` in a process of its own (private redis-server, local responder and TTS) under
// --calls concurrent simulated calls for --minutes, with churn: each of --calls lanes places one call
// after another, each lasting a random 20-90 s (--call-s=20-90) with a scenario drawn from the mix
// (qa, barge-in, dtmf), so calls end and are replaced all the time. Every 10 s the worker's /metrics
// is sampled (default metrics carry the voice_ prefix): RSS, heap used, live calls, media sessions and sockets, active handles, timers (Node's
// active resources of type Timeout) and the event-loop p99 of that interval. Reported: the RSS and heap
// slopes (least squares, MB per minute) after the first 2 minutes (goal < 1 MB/min), and once every
// call has ended: live calls, sessions and sockets (must be 0) and timers/handles against the idle
// worker's own count before the first call. Listener counts are not observable from outside the
// process and are not reported. Writes bench/results/soak-<UTC timestamp>.json (load average
// before and after); a smoke run: `-- --minutes=1 --calls=20 --call-s=10-20 --out=/tmp/soak`.
//   npm run bench:soak [-- --minutes=10] [-- --calls=500] [-- --call-s=20-90] [-- --scenarios=qa,barge-in,dtmf] [-- --out=DIR]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/simulator.js';
import { startEmbeddedCosmos } from '../dist/adapters/cosmos/embedded-cosmos-server.js';
import { machine, outDir, writeResult } from './lib/results.mjs';
import { freePort, startRedis, metric, serveEnv } from './lib/procs.mjs';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const MINUTES = Number(arg('minutes', '10'));
const CALLS = Number(arg('calls', '500'));
const [MIN_S, MAX_S] = arg('call-s', '20-90').split('-').map(Number);
const SCENARIOS = arg('scenarios', 'qa,barge-in,dtmf').split(',');
const SAMPLE_MS = Number(arg('sample-s', '10')) * 1000;
const SETTLE_MIN = Math.min(2, MINUTES / 2);
// --heap-snapshots=DIR: the worker writes a V8 heap snapshot into DIR when idle before the first
// call, at minute SETTLE_MIN, when the load ends and once every call has drained (compare them with
// scripts/heap-diff.mjs). Each snapshot stops the worker's event loop for seconds and inflates its
// RSS: a diagnostic run, not a measurement.
const SNAPSHOT_DIR = arg('heap-snapshots', '');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function sample(url, t0) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    tMin: (Date.now() - t0) / 60_000,
    rssMb: metric(text, 'voice_process_resident_memory_bytes') / 2 ** 20,
    heapMb: metric(text, 'voice_nodejs_heap_size_used_bytes') / 2 ** 20,
    heapTotalMb: metric(text, 'voice_nodejs_heap_size_total_bytes') / 2 ** 20,
    calls: metric(text, 'voice_calls'),
    sessions: metric(text, 'voice_media_sessions'),
    sockets: metric(text, 'voice_media_sockets'),
    handles: metric(text, 'voice_nodejs_active_handles_total'),
    timers: metric(text, 'voice_nodejs_active_resources', { type: 'Timeout' }),
    // The in-process TTS cache tier: bounded (TTS_CACHE_MEMORY_MB), its audio off the V8 heap.
    ttsCacheMb: metric(text, 'voice_tts_cache_memory_bytes') / 2 ** 20,
    externalMb: metric(text, 'voice_nodejs_external_memory_bytes') / 2 ** 20,
    // prom-client resets its loop-delay histogram at each scrape: this is the interval's p99.
    loopP99Ms: metric(text, 'voice_nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? null : points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
}

const round = (v, d = 2) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 10 ** d) / 10 ** d);

const before = machine();
console.log(`soak: ${MINUTES} min, ${CALLS} concurrent calls, calls of ${MIN_S}-${MAX_S} s, scenarios ${SCENARIOS.join(',')}, sample every ${SAMPLE_MS / 1000} s, load ${before.loadAverage.join(' ')}`);
const redis = await startRedis();
const sim = await startSimulator({});
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const spool = mkdtempSync(join(tmpdir(), 'soak-spool-'));
// The Cosmos stand-in is a database: it keeps every archived transcript in memory, as Cosmos keeps
// them on disk. Inside `serve` (its default without COSMOS_ENDPOINT) the soak would measure the
// database filling up (~1,600 documents per 4 minutes at 300 calls), not the worker; so it runs here,
// in the bench's process, beside the simulated ACS, and the worker reaches it as it reaches Cosmos DB.
const cosmos = await startEmbeddedCosmos();
const cosmosCa = join(spool, '..', `soak-cosmos-ca-${process.pid}.pem`);
writeFileSync(cosmosCa, cosmos.cert);
const nodeFlags = SNAPSHOT_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAPSHOT_DIR}`] : [];
const worker = spawn(process.execPath, [...nodeFlags, 'dist/cli.js', 'serve', '--processes', '1'], {
  cwd: ROOT,
  env: {
    ...serveEnv(sim, port),
    REDIS_URL: redis.url,
    APP_NAME: `soak-${process.pid}`,
    // A development-mode env (production mode refuses the local stand-ins the soak runs on).
    APP_ENV: 'bench',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    SPOOL_DIR: spool,
    COSMOS_ENDPOINT: cosmos.endpoint,
    COSMOS_KEY: cosmos.key,
    COSMOS_CA_FILE: cosmosCa,
    // Callers stay on the line silent after their scenario; the soak decides when a call ends.
    CALL_SILENCE_TIMEOUT_S: '0',
    MAX_CONCURRENT_CALLS: String(Math.max(2000, CALLS * 2)),
    INCOMING_CALLS_PER_WINDOW: '0',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const workerExit = once(worker, 'exit');

/** Has the worker write a heap snapshot and waits until it answers again (the write blocks its loop). */
async function heapSnapshot(url, label) {
  if (!SNAPSHOT_DIR) return;
  const t = Date.now();
  worker.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 500));
  await fetch(`${url}/healthz`).catch(() => null);
  console.log(`  heap snapshot (${label}) written in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
try {
  for (let i = 0; ; i++) {
    if (worker.exitCode !== null) throw new Error(`worker exited ${worker.exitCode} before it was ready`);
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    if (i > 600) throw new Error('worker not ready after 60 s');
    await new Promise((res) => setTimeout(res, 100));
  }
  await heapSnapshot(url, 'idle');
  const t0 = Date.now();
  const idle = await sample(url, t0);
  const samples = [idle];
  const sampler = setInterval(() => {
    sample(url, t0).then((s) => {
      samples.push(s);
      console.log(`  ${s.tMin.toFixed(1)} min: rss ${s.rssMb.toFixed(1)} MB, heap ${s.heapMb.toFixed(1)} MB, tts cache ${s.ttsCacheMb.toFixed(1)} MB, calls ${s.calls}, sessions ${s.sessions}, timers ${s.timers}, handles ${s.handles}, loop p99 ${s.loopP99Ms.toFixed(1)} ms`);
    }, (err) => console.error(`  sample failed: ${err.message}`));
  }, SAMPLE_MS);

  // Churn: each lane places calls back to back until the deadline; a call lasts MIN_S-MAX_S seconds.
  const deadline = t0 + MINUTES * 60_000;
  const rampMs = Math.min(30_000, MINUTES * 60_000 / 4);
  const totals = { calls: 0, succeeded: 0, failed: 0, bargeIns: 0, turns: 0, causes: {} };
  const lane = async (k) => {
    await new Promise((r) => setTimeout(r, (rampMs * k) / CALLS));
    for (let j = 0; Date.now() < deadline; j++) {
      const durationS = MIN_S + Math.random() * (MAX_S - MIN_S);
      const scenario = SCENARIOS[(k + j) % SCENARIOS.length];
      const rep = await sim.runCalls({ target: `${url}/api/incoming-call`, calls: 1, concurrency: 1, durationS: Math.min(durationS, Math.max(1, (deadline - Date.now()) / 1000 + MIN_S)), scenario });
      totals.calls += rep.calls.started;
      totals.succeeded += rep.calls.succeeded;
      totals.failed += rep.calls.failed;
      totals.bargeIns += rep.latency.bargeIn.count;
      totals.turns += rep.latency.turn.count;
      for (const [c, n] of Object.entries(rep.failuresByCause)) totals.causes[c] = (totals.causes[c] ?? 0) + n;
    }
  };
  const settleSnapshot = SNAPSHOT_DIR ? setTimeout(() => void heapSnapshot(url, `minute ${SETTLE_MIN}`), SETTLE_MIN * 60_000) : null;
  const loadEnd = SNAPSHOT_DIR ? setTimeout(() => void heapSnapshot(url, 'end of load'), MINUTES * 60_000) : null;
  await Promise.all(Array.from({ length: CALLS }, (_, k) => lane(k)));
  clearTimeout(settleSnapshot);
  clearTimeout(loadEnd);
  const lastCallEnded = Date.now();
  // Every call has ended on the caller's side; give the worker the finalizer's time, then look.
  let end = await sample(url, t0);
  for (let i = 0; i < 30 && (end.calls > 0 || end.sessions > 0 || end.sockets > 0); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    end = await sample(url, t0);
  }
  clearInterval(sampler);
  // Handles still open at this point are mostly idle keep-alive HTTP connections (the simulator's
  // callback client to the worker, whose server keeps an idle connection 72 s, fastify's
  // keepAliveTimeout; the worker's REST client to the simulated ACS): pooled, not leaked. Wait for
  // them to time out (at most 90 s) and report both counts, so a handle that never closes shows.
  const settleT = Date.now();
  let settled = end;
  while (settled.handles > idle.handles + 2 && Date.now() - settleT < 90_000) {
    await new Promise((r) => setTimeout(r, 5000));
    settled = await sample(url, t0);
  }
  const settleS = (Date.now() - settleT) / 1000;
  await heapSnapshot(url, 'drained');
  const after = machine();
  const steady = samples.filter((s) => s.tMin >= SETTLE_MIN && s.tMin <= MINUTES);
  const rssSlope = slope(steady.map((s) => ({ x: s.tMin, y: s.rssMb })));
  const heapSlope = slope(steady.map((s) => ({ x: s.tMin, y: s.heapMb })));
  // Where RSS goes besides live objects: the V8 heap's reserved size, memory outside it (Buffers,
  // wasm) and the bounded TTS cache tier (its audio is external memory): each slope on its own.
  const partSlope = (key) => round(slope(steady.filter((s) => Number.isFinite(s[key])).map((s) => ({ x: s.tMin, y: s[key] }))), 3);
  const loop = samples.slice(1).map((s) => s.loopP99Ms).filter(Number.isFinite).sort((a, b) => a - b);
  const summary = {
    bench: 'soak',
    criteria: 'v2',
    mode: MINUTES >= 10 && CALLS >= 500 ? 'full' : 'smoke',
    date: after.at,
    node: process.version,
    machineBefore: before,
    machineAfter: after,
    minutes: MINUTES,
    concurrentCalls: CALLS,
    callSeconds: [MIN_S, MAX_S],
    scenarios: SCENARIOS,
    callsCompleted: totals.calls,
    callsSucceeded: totals.succeeded,
    callsFailed: totals.failed,
    failuresByCause: totals.causes,
    turns: totals.turns,
    bargeIns: totals.bargeIns,
    drainS: round((lastCallEnded - deadline) / 1000, 1),
    slopeFromMinute: SETTLE_MIN,
    rssSlopeMbPerMin: round(rssSlope, 3),
    heapSlopeMbPerMin: round(heapSlope, 3),
    heapTotalSlopeMbPerMin: partSlope('heapTotalMb'),
    externalSlopeMbPerMin: partSlope('externalMb'),
    ttsCacheSlopeMbPerMin: partSlope('ttsCacheMb'),
    ttsCacheMbAtEnd: round(end.ttsCacheMb, 1),
    ttsCacheCapMb: 64,
    cosmosStandIn: 'bench process',
    heapSnapshots: SNAPSHOT_DIR !== '',
    goalMbPerMin: 1,
    // Max over the run of each 10 s interval's p99 (prom-client resets its histogram per scrape).
    loopP99Ms: round(loop.at(-1) ?? null, 1),
    loopP99MedianMs: round(loop[Math.floor(loop.length / 2)] ?? null, 1),
    idle: { timers: idle.timers, handles: idle.handles, rssMb: round(idle.rssMb, 1), heapMb: round(idle.heapMb, 1) },
    end: { liveCalls: end.calls, sessions: end.sessions, sockets: end.sockets, timers: end.timers, handles: end.handles, timersOverIdle: end.timers - idle.timers, handlesOverIdle: end.handles - idle.handles, rssMb: round(end.rssMb, 1), heapMb: round(end.heapMb, 1) },
    // The same once idle keep-alive connections have timed out (settleS after the drain).
    settled: { settleS: round(settleS, 1), timers: settled.timers, handles: settled.handles, timersOverIdle: settled.timers - idle.timers, handlesOverIdle: settled.handles - idle.handles, rssMb: round(settled.rssMb, 1), heapMb: round(settled.heapMb, 1), ttsCacheMb: round(settled.ttsCacheMb, 1) },
    leaked: end.calls !== 0 || end.sessions !== 0 || end.sockets !== 0,
    samples: samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 3)]))),
  };
  console.log('');
  console.log(`calls ${totals.calls} (${totals.succeeded} succeeded, ${totals.failed} failed${totals.failed ? `: ${JSON.stringify(totals.causes)}` : ''}), turns ${totals.turns}, barge-ins ${totals.bargeIns}`);
  console.log(`RSS slope after minute ${SETTLE_MIN}: ${summary.rssSlopeMbPerMin} MB/min, heap ${summary.heapSlopeMbPerMin} MB/min (goal < 1)`);
  console.log(`  parts: V8 heap total ${summary.heapTotalSlopeMbPerMin}, external ${summary.externalSlopeMbPerMin}, TTS cache ${summary.ttsCacheSlopeMbPerMin} MB/min (cache ${summary.ttsCacheMbAtEnd} MB at the end, cap ${summary.ttsCacheCapMb})`);
  console.log(`at the end: ${end.calls} live calls, ${end.sessions} sessions, ${end.sockets} sockets; timers ${end.timers} (idle ${idle.timers}), handles ${end.handles} (idle ${idle.handles})`);
  console.log(`${settleS.toFixed(0)} s later (keep-alive connections timed out): timers ${settled.timers}, handles ${settled.handles} (idle ${idle.handles})`);
  console.log(`event-loop p99 per 10 s interval: max ${summary.loopP99Ms} ms, median ${summary.loopP99MedianMs} ms`);
  console.log(`load average before ${before.loadAverage.join(' ')}, after ${after.loadAverage.join(' ')}`);
  console.log(`wrote ${writeResult(outDir(), 'soak', summary.mode === 'full' ? '' : '-smoke', summary)}`);
} finally {
  if (worker.exitCode === null) worker.kill('SIGTERM');
  await Promise.race([workerExit, new Promise((r) => setTimeout(r, 20_000))]);
  if (worker.exitCode === null) worker.kill('SIGKILL');
  await sim.close();
  await cosmos.close();
  await redis.stop();
  rmSync(spool, { recursive: true, force: true });
  rmSync(cosmosCa, { force: true });
}
