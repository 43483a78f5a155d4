// Admission across replicas (issue 18): 4 replica processes, each the worker's own CallAdmission over
// RedisCallSlots (dist/), on ONE private redis-server. 10,000 calls admitted (inbound shape: reserve
// → confirm with a call id → hold → release), 5 tenants capped at 10 live calls each, a global
// rate of 600 per window. The window is compressed (RATE_LIMIT_WINDOW_MS = 6000: 600 per 6 s instead
// of per minute, so the run takes ~2 minutes, not ~17) and the lease is TTL_LEASE = 3 s.
//
// Measured from the driver's view of live calls (a call is live from its admission reply until its
// release starts: inside the time its slot is held, so the count is never flattering):
//   peak concurrent calls per tenant (overshoot = peak - cap), admissions in any rate window,
//   slots left in Redis after the run, the time a SIGKILLed replica's slots take to come back,
//   decision latency p50/p99 and Redis round trips per decision.
//
// Run (after `npm run build`):  flock /work/notes/bench.lock node bench/admission.mjs  [--out=DIR]
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { machine, outDir, writeResult } from './lib/results.mjs';

const REPLICAS = 4;
const TARGET = Number(process.env.BENCH_CALLS ?? 10_000);
const TENANTS = 5;
const CAP = 10;
const RATE = 600;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 6000);
const LEASE_S = 3;
const LOOPS_PER_REPLICA = 20;
const HOLD_MS = [150, 450];
const KILL_AT = Math.floor(TARGET / 2);
const numberOf = (t) => `+1800555020${t}`;

if (process.argv.includes('--replica')) await replica();
else await driver();

// ---------------------------------------------------------------- one replica (child process)
async function replica() {
  const { loadConfig } = await import('../dist/config.js');
  const { createRedisClient } = await import('../dist/wiring/clients.js');
  const { RedisKeys } = await import('../dist/adapters/redis/keys.js');
  const { RedisScripts } = await import('../dist/adapters/redis/scripts.js');
  const { RedisCallSlots } = await import('../dist/adapters/redis/redis-call-slots.js');
  const { CallAdmission } = await import('../dist/server/call-admission.js');
  const { tenantResolver } = await import('../dist/domain/tenants.js');
  const { createRegistry } = await import('../dist/metrics.js');
  const { silentLogger } = await import('../dist/logger.js');
  const config = loadConfig(process.env);
  const client = createRedisClient(config.state, silentLogger());
  const keys = new RedisKeys({ appName: config.appName, appEnv: config.appEnv });
  const inner = new RedisCallSlots({ client, scripts: new RedisScripts(client), keys }, { leaseMs: config.ttl.lease * 1000 });
  let roundTrips = 0;
  let reserves = 0;
  const serverTimes = [];
  const slots = {
    async reserve(...a) {
      const r = await inner.reserve(...a);
      reserves++;
      roundTrips += r.roundTrips;
      if (r.reserved) serverTimes.push(r.serverTimeMs);
      return r;
    },
    confirm: (...a) => inner.confirm(...a),
    renew: (...a) => inner.renew(...a),
    release: (...a) => inner.release(...a),
  };
  const admission = new CallAdmission(
    { slots, tenants: tenantResolver(config.admission.tenants), liveReplicas: () => REPLICAS, registry: createRegistry({ defaultMetrics: false }), now: Date.now, log: silentLogger() },
    {
      workerId: config.workerId,
      globalMaxConcurrent: config.admission.globalMaxConcurrent,
      maxCallsPerWindow: config.admission.maxCallsPerWindow,
      rateWindowMs: config.admission.rateWindowMs,
      leaseMs: config.ttl.lease * 1000,
    },
  );
  admission.start();
  const now = () => performance.timeOrigin + performance.now();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const latencies = [];
  const refused = { tenant: 0, global: 0, rate: 0 };
  let stop = false;
  process.on('message', (m) => {
    if (m === 'stop') stop = true;
  });
  // Tenant 0 is hot (40 % of the demand): its cap binds while the others are also busy.
  const pick = () => (Math.random() < 0.4 ? 0 : 1 + Math.floor(Math.random() * (TENANTS - 1)));
  const loop = async () => {
    while (!stop) {
      const t = pick();
      const claimId = randomUUID();
      const t0 = performance.now();
      const d = await admission.reserve(claimId, `4:${numberOf(t)}`);
      latencies.push(performance.now() - t0);
      if (!d.admitted) {
        refused[d.refused]++;
        // Outbound-style: wait for the next free permit; a full tenant is retried shortly.
        await sleep(d.refused === 'rate' ? Math.min(250, d.retryAfterMs) + Math.random() * 20 : 20 + Math.random() * 40);
        continue;
      }
      const callId = randomUUID();
      process.send({ e: 's', t, at: now(), callId, redisAt: serverTimes.shift() });
      await sleep(10 + Math.random() * 20); // answerCall
      admission.confirm(claimId, callId);
      await sleep(HOLD_MS[0] + Math.random() * (HOLD_MS[1] - HOLD_MS[0]));
      process.send({ e: 'e', at: now(), callId });
      await admission.releaseCall(callId);
    }
  };
  // Baseline in the same run and conditions: a PING on the same client every ~50 ms (one round trip, no script).
  const pings = [];
  const pinger = (async () => {
    while (!stop) {
      const p0 = performance.now();
      await client.ping();
      pings.push(performance.now() - p0);
      await sleep(50);
    }
  })();
  await Promise.all(Array.from({ length: LOOPS_PER_REPLICA }, loop));
  await pinger;
  admission.stop();
  process.send({ e: 'done', latencies, pings, refused, reserves, roundTrips, held: admission.held });
  await client.quit();
  process.exit(0);
}

// ---------------------------------------------------------------- the driver
async function driver() {
  const { startRedis } = await import('./lib/procs.mjs');
  const { Redis } = await import('ioredis');
  const before = machine();
  const redis = await startRedis();
  const appName = `bench-adm-${randomUUID().slice(0, 6)}`;
  const r = new Redis(redis.url);
  const tenants = Array.from({ length: TENANTS }, (_, t) => ({ id: `t${t}`, maxConcurrent: CAP, numbers: [numberOf(t)] }));
  const tenantKey = (t) => `${appName}:bench:tenant:{t${t}}:slots`;
  const globalKey = `${appName}:bench:admission:{global}:slots`;
  const env = {
    ...process.env,
    APP_NAME: appName,
    APP_ENV: 'bench',
    REDIS_URL: redis.url,
    LOG_LEVEL: 'silent',
    TENANTS: JSON.stringify(tenants),
    MAX_CALLS_PER_MINUTE: String(RATE),
    RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
    TTL_LEASE: String(LEASE_S),
  };
  const live = new Map(); // callId → { t, start, replica }
  const intervals = []; // [t, start, end]
  const admittedAt = [];
  /** Redis's clock at each admission (what the sliding window counts by). */
  const serverAdmittedAt = [];
  const done = [];
  let admitted = 0;
  let killed = null;
  let stopping = false;
  const t0 = Date.now();
  const children = [];
  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c !== killed?.child) c.send('stop');
  };
  for (let i = 0; i < REPLICAS; i++) {
    const child = fork(fileURLToPath(import.meta.url), ['--replica'], { env: { ...env, WORKER_ID: `w${i}` } });
    children.push(child);
    child.on('message', (m) => {
      if (m.e === 's') {
        live.set(m.callId, { t: m.t, start: m.at, replica: i });
        admittedAt.push(m.at);
        if (m.redisAt !== undefined) serverAdmittedAt.push(m.redisAt);
        admitted++;
        if (admitted === KILL_AT && !killed) kill(i === 3 ? 2 : 3);
        if (admitted >= TARGET) stopAll();
      } else if (m.e === 'e') {
        const c = live.get(m.callId);
        if (c) {
          live.delete(m.callId);
          intervals.push([c.t, c.start, m.at]);
        }
      } else if (m.e === 'done') done.push({ replica: i, ...m });
    });
  }

  let slotsBack;
  function kill(i) {
    const child = children[i];
    const at = performance.timeOrigin + performance.now();
    child.kill('SIGKILL');
    // Its calls are gone from the driver's view at the kill; their slots stay in Redis until the leases run out.
    let open = 0;
    for (const [id, c] of live) {
      if (c.replica !== i) continue;
      live.delete(id);
      intervals.push([c.t, c.start, at]);
      open++;
    }
    killed = { child, replica: i, at, openCalls: open };
    slotsBack = (async () => {
      const prefixes = [`r:w${i}:`, `c:w${i}:`];
      const ms = () => Math.round(performance.timeOrigin + performance.now() - at);
      let held = 0;
      let freeAfterMs = null;
      for (;;) {
        // A slot is free again once its lease (score) is past on Redis's clock (the reserve script
        // treats it so); it is removed from the set lazily, by the next reservation of that tenant.
        const [sec, usec] = await r.time();
        const redisNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
        const sets = await Promise.all([globalKey, ...Array.from({ length: TENANTS }, (_, t) => tenantKey(t))].map((k) => r.zrange(k, 0, -1, 'WITHSCORES')));
        let mine = 0;
        let leased = 0;
        for (const flat of sets) {
          for (let j = 0; j < flat.length; j += 2) {
            if (!prefixes.some((p) => flat[j].startsWith(p))) continue;
            mine++;
            if (Number(flat[j + 1]) > redisNow) leased++;
          }
        }
        if (held === 0) held = mine;
        if (leased === 0 && freeAfterMs === null) freeAfterMs = ms();
        if (mine === 0) return { slotsHeldAtKill: held, freeAfterMs, removedAfterMs: ms() };
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
  }

  await Promise.all(children.filter((c) => c).map((c) => new Promise((res) => c.once('exit', res))));
  const runMs = Date.now() - t0;
  const back = await slotsBack;
  // After the run: every slot released (the killed replica's by lease expiry).
  await new Promise((res) => setTimeout(res, 200));
  const left = {};
  for (let t = 0; t < TENANTS; t++) left[`t${t}`] = await r.zcard(tenantKey(t));
  left.global = await r.zcard(globalKey);
  const keysNoTtl = [];
  for (const k of await r.keys(`${appName}:*`)) if ((await r.pttl(k)) < 0) keysNoTtl.push(k);

  // Peak concurrent calls per tenant: sweep, ends before starts at equal times.
  const peak = Array(TENANTS).fill(0);
  const ev = [];
  for (const [t, s, e] of intervals) ev.push([s, 1, t], [e, -1, t]);
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cur = Array(TENANTS).fill(0);
  let peakAll = 0;
  let curAll = 0;
  for (const [, d, t] of ev) {
    cur[t] += d;
    curAll += d;
    peak[t] = Math.max(peak[t], cur[t]);
    peakAll = Math.max(peakAll, curAll);
  }
  // Admissions in any window of WINDOW_MS: by Redis's clock (the limiter's), and by the time the
  // replica got the reply (reply delays bunch some together).
  const maxIn = (xs) => {
    xs.sort((a, b) => a - b);
    let max = 0;
    for (let i = 0, j = 0; i < xs.length; i++) {
      while (xs[i] - xs[j] >= WINDOW_MS) j++;
      max = Math.max(max, i - j + 1);
    }
    return max;
  };
  const maxInWindow = maxIn(admittedAt);
  const maxInWindowServer = maxIn(serverAdmittedAt);
  // Calls per window: admissions (Redis clock) in consecutive whole windows from the first admission;
  // the last, partial window is left out.
  const first = serverAdmittedAt[0];
  const last = serverAdmittedAt[serverAdmittedAt.length - 1];
  const whole = Math.floor((last - first) / WINDOW_MS);
  const perWindow = Array(whole).fill(0);
  for (const x of serverAdmittedAt) {
    const k = Math.floor((x - first) / WINDOW_MS);
    if (k < whole) perWindow[k]++;
  }
  const steadyPerWindow = perWindow.reduce((a, b) => a + b, 0) / Math.max(1, whole);
  const lat = done.flatMap((d) => d.latencies).sort((a, b) => a - b);
  const pings = done.flatMap((d) => d.pings).sort((a, b) => a - b);
  const qOf = (xs, p) => Math.round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] * 1000) / 1000;
  const q = (p) => qOf(lat, p);
  const reserves = done.reduce((n, d) => n + d.reserves, 0);
  const roundTrips = done.reduce((n, d) => n + d.roundTrips, 0);
  const refused = { tenant: 0, global: 0, rate: 0 };
  for (const d of done) for (const k of Object.keys(refused)) refused[k] += d.refused[k];
  const info = await r.info('commandstats');
  const cmd = Object.fromEntries([...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
  await r.quit();
  await redis.stop();

  const summary = {
    bench: 'admission',
    setup: {
      replicas: REPLICAS,
      processes: 'one node process per replica: CallAdmission + RedisCallSlots from dist/, one ioredis client each, one redis-server (loopback, no persistence)',
      tenants: TENANTS,
      tenantCap: CAP,
      globalRate: `${RATE} per ${WINDOW_MS} ms (RATE_LIMIT_WINDOW_MS compressed from 60,000 so the run takes minutes)`,
      leaseS: LEASE_S,
      loopsPerReplica: LOOPS_PER_REPLICA,
      holdMs: HOLD_MS,
      demand: 'tenant t0 40 %, t1-t4 15 % each; a rate refusal waits for the next permit, a full tenant retries after 20-60 ms',
      target: TARGET,
    },
    runMs,
    admitted,
    decisions: reserves,
    refused,
    peakConcurrentPerTenant: Object.fromEntries(peak.map((p, t) => [`t${t}`, p])),
    overshoot: Math.max(0, ...peak.map((p) => p - CAP)),
    peakConcurrentAll: peakAll,
    rate: { maxAdmittedInAnyWindowRedisClock: maxInWindowServer, redisClockSamples: serverAdmittedAt.length, maxAdmittedInAnyWindowReplyTime: maxInWindow, limitPerWindow: RATE, admittedPerWholeWindow: perWindow, meanPerWholeWindow: Math.round(steadyPerWindow * 10) / 10, meanVsLimit: Math.round((steadyPerWindow / RATE) * 10000) / 10000 },
    killedReplica: killed ? { replica: `w${killed.replica}`, atAdmitted: KILL_AT, openCalls: killed.openCalls, ...back, leaseMs: LEASE_S * 1000 } : null,
    slotsLeftAfterRun: left,
    keysWithoutTtl: keysNoTtl.length,
    decisionMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
    baselinePingMs: { samples: pings.length, p50: qOf(pings, 0.5), p99: qOf(pings, 0.99) },
    decisionVsPing: { p50: Math.round((q(0.5) / qOf(pings, 0.5)) * 100) / 100, p99: Math.round((q(0.99) / qOf(pings, 0.99)) * 100) / 100 },
    roundTripsPerDecision: Math.round((roundTrips / reserves) * 1000) / 1000,
    // Whole run, driver's polling included: EVALSHA = reserve (1 per decision) + confirm (2 per call, one pipeline) + renewals.
    redisCommands: { evalsha: cmd.evalsha ?? 0, eval: cmd.eval ?? 0, zrem: cmd.zrem ?? 0, zrange: cmd.zrange ?? 0 },
    machine: { before, after: machine() },
  };
  const file = writeResult(outDir(), 'admission', '', summary);
  console.log(JSON.stringify(summary, null, 2));
  console.log(`wrote ${file}`);
}
