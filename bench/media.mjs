// Media hot-path capacity: how many concurrent 16 kHz calls the worker carries against a bare ws
// baseline (JSON.parse + base64 decode only), both driven by the simulator's media streaming code in
// a process of its own. A window FAILS when any of these holds (both targets, measured at the target):
//   - the target's CPU is >= 90 % of one core (any one of its processes): a saturated process cannot pass;
//   - more than 0.5 % of inbound frames arrive > 30 ms after the previous frame of their stream;
//   - event-loop delay p99 > 20 ms;
//   - playout lateness p99 > 5 ms (worker only: the baseline plays no audio, its jitter is null);
//   - the driver did not deliver the load (> 0.5 % of its 20 ms periods skipped, a frame dropped) or a
//     socket closed.
// Each step runs WINDOWS windows per target (3 by default), alternating targets (B W B W ...), and
// passes when at least 2 of 3 windows pass. Published per step: medians with min-max spread. Capacity
// is the largest step passed with every step below it passed. The headline ratio is CPU per call,
// baseline / worker, at the largest step BOTH pass (never at a step either failed). Handler time is the
// target's synchronous 'message' work in ns (bench/lib/target-probe.mjs), reported, not a criterion.
//   npm run bench:media [-- --quick] [-- --ladder=500,750,1000] [-- --windows=3] [-- --processes=1,2]
//     [-- --warmup=ms] [-- --play-every=4] [-- --targets=baseline,worker] [-- --phases=1|4] [-- --out=/tmp/x]
// `--processes=1,2`: the worker runs as 1 and as 2 processes on one port (node:cluster, as
// `serve --processes N`); calls per box and per process are both reported.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { machine, outDir, spread, writeResult } from './lib/results.mjs';
import { LIMITS, cpuRatio, stepPassed, windowFailures } from './lib/criteria.mjs';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes('--quick');
const LADDER = arg('ladder') ? arg('ladder').split(',').map(Number) : quick ? [100, 250, 500, 1000] : [250, 500, 750, 1000, 1250, 1500, 2000];
const WINDOW_MS = Number(arg('window') ?? (quick ? 10_000 : 60_000));
// Steady state for the worker means every call's audio ring has wrapped once (MEDIA_RING_SECONDS, 2 s by
// default): until then each new ring page is faulted in on the frame path.
const WARMUP_MS = Number(arg('warmup') ?? (quick ? 2_000 : 5_000));
// One call in PLAY_EVERY plays agent audio continuously (0: none).
const PLAY_EVERY = Number(arg('play-every') ?? 4);
const WINDOWS = Number(arg('windows') ?? 3);
const NEED = Math.floor(WINDOWS / 2) + 1; // for the log; stepPassed decides
const RUN = (arg('targets') ?? 'baseline,worker').split(',');
const PROCESSES = (arg('processes') ?? '1').split(',').map(Number);
// How the driver spreads its streams over the 20 ms period: 4 slots of 5 ms (the simulator's own
// pattern, like calls that started at unrelated times) or 1 (every stream's frame in one burst).
const PHASES = Number(arg('phases') ?? 4);
const OUT = outDir();

const FILES = {
  baseline: new URL('./lib/baseline-server.mjs', import.meta.url),
  worker: new URL('./lib/media-target.mjs', import.meta.url),
};
const TARGETS = [
  ...(RUN.includes('baseline') ? [{ name: 'baseline', kind: 'baseline', processes: 1 }] : []),
  ...(RUN.includes('worker') ? PROCESSES.map((p) => ({ name: p === 1 ? 'worker' : `worker@${p}`, kind: 'worker', processes: p })) : []),
];

function next(child, type) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m.type === type) {
        child.off('message', onMsg);
        resolve(m);
      } else if (m.type === 'error') reject(new Error(m.message));
    };
    child.on('message', onMsg);
    child.once('exit', (code) => reject(new Error(`${type}: child exited ${code}`)));
  });
}

const round = (v, d = 2) => (v === null || v === undefined ? null : Math.round(v * 10 ** d) / 10 ** d);

/** One measured window of one target at n calls (fresh target and driver processes). */
async function measureWindow(target, n) {
  const profile = process.env.BENCH_CPU_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // BENCH_NODE_FLAGS: extra node flags for the target (e.g. --trace-gc), the same for both targets.
  const extra = process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : [];
  const server = fork(FILES[target.kind], [], {
    execArgv: ['--expose-gc', ...profile, ...extra],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_PROCESSES: String(target.processes) },
  });
  const driver = fork(new URL('./lib/media-driver.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, LOAD_PHASES: String(PHASES) } });
  try {
    const { port } = await next(server, 'listening');
    server.send({ type: 'prepare', n, playEvery: PLAY_EVERY });
    const { calls } = await next(server, 'prepared');
    driver.send({ type: 'run', port, calls, durationMs: WARMUP_MS + WINDOW_MS + 500 });
    await next(driver, 'connected');
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    server.send({ type: 'window-start' });
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    server.send({ type: 'window-end' });
    const w = await next(server, 'window');
    const { stats } = await next(driver, 'done');
    const windowMs = WINDOW_MS;
    const periods = (WARMUP_MS + WINDOW_MS) / 20;
    const pct = (ms) => (ms / windowMs) * 100;
    const processCpuPct = w.processCpuMs.map(pct);
    const maxProcessCpuPct = Math.max(...processCpuPct);
    const fails = windowFailures(w, stats, { windowMs, periods });
    const driverOk = !fails.some((f) => f.startsWith('driver short'));
    return {
      target: target.name,
      processes: target.processes,
      n,
      ok: fails.length === 0,
      fails,
      cpuPctPerCall: round((pct(w.cpuMs) / n), 4),
      cpuPctTotal: round(pct(w.cpuMs), 1),
      maxProcessCpuPct: round(maxProcessCpuPct, 1),
      processCpuPct: processCpuPct.map((v) => round(v, 1)),
      primaryCpuPct: w.primaryCpuMs === undefined ? null : round(pct(w.primaryCpuMs), 1),
      // Kernel share of that CPU (loopback TCP send and receive are paid here).
      sysPctTotal: round(pct(w.sysMs), 1),
      lateArrivalPct: round(w.lateArrivalPct, 3),
      lateArrivals: w.lateArrivals,
      arrivals: w.arrivals,
      loopP99Ms: round(w.loopP99Ms),
      jitterP99Ms: round(w.jitterP99Ms),
      handlerP50Ms: round(w.handlerP50Ms, 4),
      handlerP99Ms: round(w.handlerP99Ms, 4),
      rssKbPerCall: round(w.rssDelta / n / 1024, 1),
      heapKbPerCall: round(w.heapDelta / n / 1024, 1),
      driverOk,
      driverMaxLagMs: round(stats.maxLagMs),
      driverSkippedTicks: stats.skippedTicks ?? 0,
      driverDropped: stats.dropped ?? 0,
      framesSent: stats.sent,
      outboundFrames: stats.audioIn,
      stopAudio: stats.stopIn,
      socketsClosed: stats.closed,
      worker: target.kind === 'worker' ? { sockets: w.sockets, sessions: w.sessions, bargeIns: w.bargeIns, gaps: w.gaps, lateFrames: w.late } : undefined,
    };
  } finally {
    driver.kill();
    server.send?.({ type: 'exit' });
    await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

function print(r, k) {
  console.log(
    [r.target.padEnd(9), String(r.n).padStart(5), `w${k + 1}`, r.ok ? ' ok ' : 'FAIL', `cpu ${r.cpuPctTotal}% (max process ${r.maxProcessCpuPct}%, ${r.cpuPctPerCall}%/call)`, `late ${r.lateArrivalPct}%`,
      `loop p99 ${r.loopP99Ms} ms`, `jitter p99 ${r.jitterP99Ms ?? '-'} ms`, `handler p99 ${r.handlerP99Ms} ms`, `rss ${r.rssKbPerCall} KB/call`, `skipped ${r.driverSkippedTicks}`, r.fails.join('; ')].join(' | '),
  );
}

const METRICS = ['cpuPctPerCall', 'cpuPctTotal', 'maxProcessCpuPct', 'lateArrivalPct', 'loopP99Ms', 'jitterP99Ms', 'handlerP50Ms', 'handlerP99Ms', 'rssKbPerCall', 'heapKbPerCall'];
function summarizeStep(target, n, rows) {
  const s = { target: target.name, processes: target.processes, n, windows: rows.length, windowsPassed: rows.filter((r) => r.ok).length, passed: stepPassed(rows, WINDOWS) };
  for (const m of METRICS) s[m] = spread(rows.map((r) => r[m]));
  return s;
}

const before = machine();
console.log(`media bench: ${quick ? 'quick' : 'full'}, ${WINDOWS} windows per step (pass: ${NEED}), driver phases ${PHASES}, warmup ${WARMUP_MS / 1000} s, window ${WINDOW_MS / 1000} s, ladder ${LADDER.join(',')}, targets ${TARGETS.map((t) => t.name).join(',')}, ${before.cores} cores, load ${before.loadAverage.join(' ')}, node ${process.version}`);
const rows = [];
const steps = [];
const capacity = Object.fromEntries(TARGETS.map((t) => [t.name, 0]));
let active = [...TARGETS];
for (const n of LADDER) {
  if (active.length === 0) break;
  const byTarget = new Map(active.map((t) => [t.name, []]));
  for (let k = 0; k < WINDOWS; k++) {
    // Alternate the order each window so neither target always runs first after a pause.
    for (const t of k % 2 === 0 ? active : [...active].reverse()) {
      const r = { ...(await measureWindow(t, n)), window: k + 1 };
      rows.push(r);
      byTarget.get(t.name).push(r);
      print(r, k);
    }
  }
  const failed = [];
  for (const t of active) {
    const s = summarizeStep(t, n, byTarget.get(t.name));
    steps.push(s);
    console.log(`  ${t.name} at ${n}: ${s.passed ? 'PASS' : 'FAIL'} (${s.windowsPassed}/${s.windows}), cpu/call median ${round(s.cpuPctPerCall?.median, 4)}% [${round(s.cpuPctPerCall?.min, 4)}-${round(s.cpuPctPerCall?.max, 4)}]`);
    if (s.passed) capacity[t.name] = n;
    else failed.push(t.name);
  }
  active = active.filter((t) => !failed.includes(t.name));
}

// Ratios only where both targets passed: the largest such step, CPU per call baseline / worker.
const comparisons = TARGETS.filter((t) => t.kind === 'worker').map((t) => ({ worker: t.name, processes: t.processes, ...cpuRatio(steps, LADDER, t.name) }));
const perBox = TARGETS.map((t) => ({ target: t.name, processes: t.processes, callsPerBox: capacity[t.name], callsPerProcess: Math.floor(capacity[t.name] / t.processes), topOfLadder: capacity[t.name] === LADDER.at(-1) }));
const after = machine();
const summary = {
  bench: 'media',
  criteria: 'v2',
  // Only a run with the full settings is 'full' (what bench:report publishes); shorter windows are 'custom'.
  mode: quick ? 'quick' : WINDOW_MS === 60_000 && WINDOWS >= 3 && WARMUP_MS >= 5_000 ? 'full' : 'custom',
  date: after.at,
  node: process.version,
  cores: before.cores,
  machineBefore: before,
  machineAfter: after,
  windowMs: WINDOW_MS,
  warmupMs: WARMUP_MS,
  windowsPerStep: WINDOWS,
  windowsToPass: NEED,
  limits: LIMITS,
  driverPhases: PHASES,
  playEvery: PLAY_EVERY,
  ladder: LADDER,
  capacity: perBox,
  comparisons,
  steps,
  rows,
};
console.log('');
for (const c of perBox) console.log(`${c.target}: ${c.callsPerBox}${c.topOfLadder ? '+' : ''} calls per box, ${c.callsPerProcess} per process (${c.processes} process${c.processes > 1 ? 'es' : ''})`);
for (const c of comparisons) console.log(c.commonStep === null ? `${c.worker}: no step both targets passed; no ratio` : `${c.worker} vs baseline at ${c.commonStep} calls (both passed): CPU per call ratio ${c.cpuPerCallRatio.median} [${c.cpuPerCallRatio.min}-${c.cpuPerCallRatio.max}] (goal >= 0.85)`);
console.log(`load average before ${before.loadAverage.join(' ')}, after ${after.loadAverage.join(' ')}`);
const file = writeResult(OUT, 'media', summary.mode === 'full' ? '' : `-${summary.mode}`, summary);
console.log(`wrote ${file}`);
