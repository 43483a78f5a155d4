// Admission across real replicas (issue 18 "done when"): 4 `serve` processes (dist/cli.js) on ONE
// private redis-server, the simulator as ACS in this process, the embedded Cosmos stand-in here too
// (as bench/soak.mjs). Inbound calls from the simulator to all 4 replicas (a lane picks a live replica
// per call) mixed with one outbound campaign (tenant t4, placed by replica 0 through createCall),
// 5 tenants capped at 10 live calls each, a global rate of RATE per RATE_LIMIT_WINDOW_MS. The window
// is compressed (default 60 per 6 s = the shape of 600/min, so the run takes ~2 minutes, not ~17
// for the same count) and TTL_LEASE is 5 s. Calls are short (the 'silence' scenario: ~3 s on the line).
//
// Measured from the SIMULATOR's view of live calls (a call is live from its answer / CallConnected
// to its CallDisconnected as the simulator sees them; the worker reserves before the answer and
// releases after the disconnect, so the view is never flattering):
//   peak concurrent calls per tenant (overshoot = peak - cap), admissions per whole window and in any
//   sliding window, slots left in Redis after the run, the time a SIGKILLed replica's slots take to
//   come back (lease expiry on Redis's clock).
//
// Run:  flock /work/notes/bench.lock sh -c 'uptime; npm run bench:admission-serve; uptime'
//   env BENCH_CALLS (admitted calls to reach, default 1000), BENCH_WINDOW_MS (6000), BENCH_RATE (60)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { startSimulator } from '../dist/simulator/simulator.js';
import { startEmbeddedCosmos } from '../dist/adapters/cosmos/embedded-cosmos-server.js';
import { RedisKeys } from '../dist/adapters/redis/keys.js';
import { machine, outDir, writeResult } from './lib/results.mjs';
import { freePort, startRedis, serveEnv } from './lib/procs.mjs';

const PROCS = 4;
const TARGET = Number(process.env.BENCH_CALLS ?? 1000);
const TENANTS = 5;
const CAP = 10;
const RATE = Number(process.env.BENCH_RATE ?? 60);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 6000);
const LEASE_S = 5;
const LANES = Number(process.env.BENCH_LANES ?? 48);
const CAMPAIGN_TARGETS = Number(process.env.BENCH_CAMPAIGN_TARGETS ?? 150);
const KILLED = PROCS - 1;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const numberOf = (t) => `+1800555020${t}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const appName = `adm-serve-${process.pid}`;
const appEnv = 'bench';

const before = machine();
console.log(`admission-serve: ${PROCS} serve processes, ${TENANTS} tenants cap ${CAP}, ${RATE} per ${WINDOW_MS} ms, target ${TARGET} admitted, load ${before.loadAverage.join(' ')}`);
// --cluster: the same on a private 3-node Redis Cluster (test/support/redis-cluster.ts; run with
// `node --import tsx/esm bench/admission-serve.mjs --cluster`).
const CLUSTER = process.argv.includes('--cluster');
const redis = CLUSTER ? await (await import('../test/support/redis-cluster.ts')).startRedisCluster() : await startRedis();
const redisEnv = CLUSTER ? { REDIS_CLUSTER_NODES: redis.nodesEnv } : { REDIS_URL: redis.url };
const r = CLUSTER ? new Cluster(redis.nodes) : new Redis(redis.url);
const nodeClients = CLUSTER ? redis.nodes.map((n) => new Redis(n.port, n.host)) : [r];
const sim = await startSimulator({});
const cosmos = await startEmbeddedCosmos();
const spoolRoot = mkdtempSync(join(tmpdir(), 'adm-serve-'));
const cosmosCa = join(spoolRoot, 'cosmos-ca.pem');
writeFileSync(cosmosCa, cosmos.cert);
const tenantsJson = JSON.stringify(Array.from({ length: TENANTS }, (_, t) => ({ id: `t${t}`, maxConcurrent: CAP, numbers: [numberOf(t)] })));
const workers = [];
for (let i = 0; i < PROCS; i++) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const workerId = `w${i}-${process.pid}`;
  const proc = spawn(process.execPath, ['dist/cli.js', 'serve', '--processes', '1'], {
    cwd: ROOT,
    env: {
      ...serveEnv(sim, port),
      ...redisEnv,
      APP_NAME: appName,
      APP_ENV: appEnv,
      WORKER_ID: workerId,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      SPOOL_DIR: join(spoolRoot, `spool-${i}`),
      COSMOS_ENDPOINT: cosmos.endpoint,
      COSMOS_KEY: cosmos.key,
      COSMOS_CA_FILE: cosmosCa,
      CALL_SILENCE_TIMEOUT_S: '0',
      INCOMING_CALLS_PER_WINDOW: '0',
      TENANTS: tenantsJson,
      MAX_CALLS_PER_MINUTE: String(RATE),
      RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
      TTL_LEASE: String(LEASE_S),
      OUTBOUND_CALLER_ID: '+18005550199',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  workers.push({ i, url, port, workerId, proc, exit: once(proc, 'exit'), alive: true });
}
const keys = new RedisKeys({ appName, appEnv });
const setKeys = [keys.globalSlots(), ...Array.from({ length: TENANTS }, (_, t) => keys.slots(`t${t}`))];
const redisNow = async () => {
  const [sec, usec] = await r.time();
  return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
};
/** Members in the slot sets (all, those whose lease is still running), optionally only one worker's. */
async function slotCount(workerId) {
  const now = await redisNow();
  let all = 0;
  let leased = 0;
  for (const k of setKeys) {
    const flat = await r.zrange(k, 0, -1, 'WITHSCORES');
    for (let j = 0; j < flat.length; j += 2) {
      if (workerId && !flat[j].includes(`:${workerId}:`)) continue;
      all++;
      if (Number(flat[j + 1]) > now) leased++;
    }
  }
  return { all, leased };
}

let summary;
try {
  for (const w of workers) {
    for (let n = 0; ; n++) {
      if (w.proc.exitCode !== null) throw new Error(`worker ${w.i} exited ${w.proc.exitCode} before it was ready`);
      const res = await fetch(`${w.url}/readyz`).catch(() => null);
      if (res?.status === 200) break;
      if (n > 600) throw new Error(`worker ${w.i} not ready after 60 s`);
      await sleep(100);
    }
  }
  console.log('  4 workers ready');
  const t0 = performance.now();
  let admitted = 0;
  let offered = 0;
  const declined = {};
  const failures = {};
  let stop = false;
  // Outbound: one campaign on tenant t4 placed by worker 0 (never the killed one).
  sim.outbound({ scenario: 'silence', ringMs: 200 });
  const now = Date.now();
  const camp = await fetch(`${workers[0].url}/api/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id: 'adm-serve-campaign',
      tenant: 't4',
      targets: Array.from({ length: CAMPAIGN_TARGETS }, (_, i) => `+1425557${String(i).padStart(4, '0')}`),
      window: { start: new Date(now - 1000).toISOString(), end: new Date(now + 900_000).toISOString() },
      ratePerMinute: 60_000,
      concurrency: CAP,
      retries: { max: 0, backoffMs: 500 },
    }),
  });
  if (camp.status !== 201) throw new Error(`POST /api/campaigns: ${camp.status} ${await camp.text()}`);
  // Inbound demand: tenant t0 40 %, t1-t3 20 % each (t4 gets the campaign and 1 lane in 8).
  const pickTenant = (k, j) => {
    if ((k + j) % 8 === 0) return 4;
    const x = Math.random();
    return x < 0.4 ? 0 : x < 0.6 ? 1 : x < 0.8 ? 2 : 3;
  };
  const outboundAdmitted = () => sim.calls.filter((c) => c.scenario === 'outbound' && c.answeredAt !== undefined).length;
  const lane = async (k) => {
    await sleep((2000 * k) / LANES);
    for (let j = 0; !stop; j++) {
      const live = workers.filter((w) => w.alive);
      const w = live[(k + j) % live.length];
      const t = pickTenant(k, j);
      offered++;
      const rep = await sim.runCalls({ target: `${w.url}/api/incoming-call`, calls: 1, concurrency: 1, durationS: 0, scenario: 'silence', calledNumbers: [numberOf(t)] });
      for (const [c, n] of Object.entries(rep.failuresByCause)) {
        if (c.startsWith('declined-')) declined[c] = (declined[c] ?? 0) + n;
        else failures[c] = (failures[c] ?? 0) + n;
      }
      const notAdmitted = Object.entries(rep.failuresByCause).filter(([c]) => c.startsWith('declined-') || c.startsWith('incoming-call-http') || c === 'answer-timeout').reduce((a, [, n]) => a + n, 0);
      admitted += rep.calls.started - notAdmitted;
      if (admitted + outboundAdmitted() >= TARGET) stop = true;
      if (notAdmitted > 0) await sleep(250 + Math.random() * 250);
    }
  };
  // SIGKILL one replica mid-run; its slots must come back within TTL_LEASE (lease expiry).
  const killed = workers[KILLED];
  const killTask = (async () => {
    while (!stop && admitted + outboundAdmitted() < TARGET / 2) await sleep(100);
    killed.alive = false;
    const held = await slotCount(killed.workerId);
    // The longest lease the replica holds at the kill (its renewals keep each ≤ TTL_LEASE ahead).
    const nowAtKill = await redisNow();
    let maxLeaseAheadMs = 0;
    for (const k of setKeys) {
      const flat = await r.zrange(k, 0, -1, 'WITHSCORES');
      for (let j = 0; j < flat.length; j += 2) if (flat[j].includes(`:${killed.workerId}:`)) maxLeaseAheadMs = Math.max(maxLeaseAheadMs, Number(flat[j + 1]) - nowAtKill);
    }
    const at = performance.now();
    killed.proc.kill('SIGKILL');
    await killed.exit;
    console.log(`  SIGKILLed worker ${KILLED} holding ${held.leased} slots at ${((at - t0) / 1000).toFixed(1)} s`);
    for (;;) {
      const c = await slotCount(killed.workerId);
      if (c.leased === 0) return { slotsHeldAtKill: held.leased, slotsFreeAfterMs: Math.round(performance.now() - at), maxLeaseAheadAtKillMs: maxLeaseAheadMs, leaseMs: LEASE_S * 1000, killedAtS: Math.round((at - t0) / 100) / 10 };
      await sleep(20);
    }
  })();
  // The limiter's own record: every admission in the global rate ZSET (score = Redis's clock at the
  // admission). Read every 500 ms, well inside the window, so no admission is trimmed before it is seen.
  const rateSeen = new Map();
  const readRate = async () => {
    const flat = await r.zrange(keys.globalRate(), 0, -1, 'WITHSCORES');
    for (let j = 0; j < flat.length; j += 2) rateSeen.set(flat[j], Number(flat[j + 1]));
  };
  const ratePoll = setInterval(() => void readRate().catch(() => undefined), 500);
  const progress = setInterval(() => console.log(`  ${((performance.now() - t0) / 1000).toFixed(0)} s: admitted ${admitted} inbound + ${outboundAdmitted()} outbound, offered ${offered}, declined ${JSON.stringify(declined)}`), 10_000);
  await Promise.all(Array.from({ length: LANES }, (_, k) => lane(k)));
  const kill = await killTask;
  // The campaign goes on placing calls; cancel it once the count is reached and wait for its calls.
  await fetch(`${workers[0].url}/api/campaigns/adm-serve-campaign/cancel`, { method: 'POST' }).catch(() => null);
  for (let n = 0; n < 100 && sim.outboundActive > 0; n++) await sleep(100);
  clearInterval(progress);
  clearInterval(ratePoll);
  await readRate();
  const runMs = performance.now() - t0;
  // Every slot released: the live workers' by release, the killed one's by lease expiry.
  let left = await slotCount();
  for (let n = 0; n < 50 && left.leased > 0; n++) {
    await sleep(100);
    left = await slotCount();
  }
  const perKey = {};
  for (const k of setKeys) perKey[k.split(':').slice(2).join(':')] = await r.zcard(k);
  const keysNoTtl = [];
  for (const n of nodeClients) for (const k of await n.keys(`${appName}:*`)) if ((await n.pttl(k)) < 0) keysNoTtl.push(k);

  // The simulator's view: [answer, disconnect] of every admitted call (inbound by called number,
  // outbound by its campaign's tenant t4), in performance.now() time.
  const intervals = [];
  const admissions = [];
  let killedInFlight = 0;
  for (const c of sim.calls) {
    if (c.answeredAt === undefined || c.rejectedWith !== undefined) continue;
    const t = c.scenario === 'outbound' ? 4 : Number(String(c.callee.phoneNumber?.value).slice(-1));
    const s = c.offeredAt + c.answeredAt;
    const e = c.endedAt !== undefined ? c.offeredAt + c.endedAt : performance.now();
    const onKilled = String(c.answer?.callbackUri ?? '').includes(`:${killed.port}/`);
    if (onKilled && e > kill.killedAtS * 1000 + t0) killedInFlight++;
    intervals.push([t, s, e, onKilled]);
    admissions.push(c.scenario === 'outbound' ? c.offeredAt : s);
  }
  const sweep = (list) => {
    const ev = [];
    for (const [t, s, e] of list) ev.push([s, 1, t], [e, -1, t]);
    ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const cur = Array(TENANTS).fill(0);
    const peak = Array(TENANTS).fill(0);
    for (const [, d, t] of ev) {
      cur[t] += d;
      peak[t] = Math.max(peak[t], cur[t]);
    }
    return peak;
  };
  const peak = sweep(intervals);
  const peakExclKilled = sweep(intervals.filter((x) => !x[3]));
  admissions.sort((a, b) => a - b);
  let maxInWindow = 0;
  for (let i = 0, j = 0; i < admissions.length; i++) {
    while (admissions[i] - admissions[j] >= WINDOW_MS) j++;
    maxInWindow = Math.max(maxInWindow, i - j + 1);
  }
  const perWindow = [];
  if (admissions.length > 0) {
    const a0 = admissions[0];
    const whole = Math.floor((admissions.at(-1) - a0) / WINDOW_MS);
    for (let w = 0; w < whole; w++) perWindow.push(admissions.filter((x) => x >= a0 + w * WINDOW_MS && x < a0 + (w + 1) * WINDOW_MS).length);
  }
  // On Redis's clock (the limiter's): consecutive whole windows from the first admission, the first
  // (lanes ramp up over 2 s) and the last partial one left out; and the most in any sliding window.
  const redisTimes = [...rateSeen.values()].sort((a, b) => a - b);
  let maxInWindowRedis = 0;
  for (let i = 0, j = 0; i < redisTimes.length; i++) {
    while (redisTimes[i] - redisTimes[j] >= WINDOW_MS) j++;
    maxInWindowRedis = Math.max(maxInWindowRedis, i - j + 1);
  }
  const perWindowRedis = [];
  if (redisTimes.length > 0) {
    const a0 = redisTimes[0];
    const whole = Math.floor((redisTimes.at(-1) - a0) / WINDOW_MS);
    for (let w = 0; w < whole; w++) perWindowRedis.push(redisTimes.filter((x) => x >= a0 + w * WINDOW_MS && x < a0 + (w + 1) * WINDOW_MS).length);
  }
  const steady = perWindowRedis.slice(1);
  const mean = steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length);
  const after = machine();
  summary = {
    kind: 'admission-serve',
    date: after.at,
    node: process.version,
    setup: {
      serveProcesses: PROCS,
      redis: CLUSTER ? 'private 3-node Redis Cluster' : 'one private redis-server',
      tenants: TENANTS,
      capPerTenant: CAP,
      rateLimitPerWindow: RATE,
      rateWindowMs: WINDOW_MS,
      compression: `RATE_LIMIT_WINDOW_MS=${WINDOW_MS}: ${RATE} per ${WINDOW_MS / 1000} s (= ${Math.round((RATE * 60_000) / WINDOW_MS)}/min), not per minute, so the run is bounded`,
      leaseS: LEASE_S,
      inboundLanes: LANES,
      call: "scenario 'silence' (~3 s on the line after the answer), media streamed",
      outbound: `campaign of ${CAMPAIGN_TARGETS} targets on tenant t4 at concurrency ${CAP}, through worker 0 (cancelled when the count is reached)`,
      demand: 'inbound: t0 40 %, t1-t3 20 % each of 7 in 8 offers, t4 1 in 8; a declined offer waits 250-500 ms before the lane offers again',
    },
    runS: Math.round(runMs / 100) / 10,
    admitted: { inbound: admissions.length - outboundAdmitted(), outbound: outboundAdmitted(), total: admissions.length },
    offeredInbound: offered,
    declined,
    failuresOfAdmittedCalls: failures,
    concurrency: { peakPerTenant: Object.fromEntries(peak.map((p, t) => [`t${t}`, p])), overshoot: Math.max(0, Math.max(...peak) - CAP), peakPerTenantExcludingCallsOnKilledWorker: Object.fromEntries(peakExclKilled.map((p, t) => [`t${t}`, p])), callsOnKilledWorkerAtKill: killedInFlight },
    rate: {
      limitPerWindow: RATE,
      redisClock: { admissions: redisTimes.length, admittedPerWholeWindow: perWindowRedis, meanPerWholeWindowAfterFirst: Math.round(mean * 10) / 10, meanVsLimit: Math.round((mean / RATE) * 10000) / 10000, worstWindowVsLimit: steady.length ? Math.round((Math.max(...steady.map((x) => Math.abs(x - RATE))) / RATE) * 10000) / 10000 : null, maxAdmittedInAnySlidingWindow: maxInWindowRedis },
      // By the simulator's clock (answer / createCall time, after the worker's decision): shifted by
      // the answer latency, so a window may hold a few more than the limit here.
      simulatorView: { admittedPerWholeWindow: perWindow, maxAdmittedInAnySlidingWindow: maxInWindow },
    },
    kill,
    slotsAfterRun: { leased: left.leased, membersInSets: left.all, perKey, keysWithoutTtl: keysNoTtl },
    campaign: await (await fetch(`${workers[0].url}/api/campaigns/adm-serve-campaign`)).json().then((s) => ({ status: s.status, counts: s.counts })).catch((e) => ({ error: e.message })),
    machineBefore: before,
    machineAfter: after,
  };
  summary.pass = summary.concurrency.overshoot === 0 && left.leased === 0 && kill.maxLeaseAheadAtKillMs <= LEASE_S * 1000 && maxInWindowRedis <= RATE && Math.abs(mean / RATE - 1) <= 0.01;
  console.log(JSON.stringify(summary, null, 2));
  console.log(`wrote ${writeResult(outDir(), 'admission-serve', CLUSTER ? '-cluster' : '', summary)}`);
} finally {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGTERM');
  await Promise.race([Promise.all(workers.map((w) => w.exit)), sleep(20_000)]);
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  for (const n of nodeClients) if (n !== r) n.disconnect();
  r.disconnect();
  await sim.close();
  await cosmos.close();
  await redis.stop();
  rmSync(spoolRoot, { recursive: true, force: true });
}
process.exit(summary?.pass ? 0 : 1);
