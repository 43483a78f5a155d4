// RESPONDER=realtime under load: `serve` in a process of its own (private redis-server, pcm24KMono)
// bridged to the local realtime server (src/simulator/realtime-server.ts), with the
// simulator in this process (the realtime server in a third process); --calls concurrent `barge-in` calls over --ramp seconds (the agent
// greets, the caller asks, the agent answers, the caller talks over the answer). Reports:
//   - bridge latency: a response's first audio delta received by the worker -> its first frame
//     handed to the media socket (the worker's voice_realtime_bridge_seconds histogram; bucket bounds);
//   - barge-in: the caller's first voiced frame sent -> stopAudio received (the simulator's figure);
//   - truncates sent (conversation.item.truncate per barge-in) and their audio_end_ms;
//   - the worker's CPU seconds per call (utime+stime from /proc over the run).
// Writes bench/results/realtime-<UTC timestamp>.json with the load average before and after.
// Build first (npm run build).   node bench/realtime.mjs [--calls=100] [--ramp=5] [--out=DIR]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/simulator.js';
import { callerVoice } from '../dist/simulator/caller-audio.js';
import { createInterface } from 'node:readline';
import { machine, outDir, writeResult } from './lib/results.mjs';
import { freePort, startRedis, serveEnv } from './lib/procs.mjs';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const CALLS = Number(arg('calls', '100'));
const RAMP_S = Number(arg('ramp', '5'));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Worker CPU seconds so far (utime + stime of /proc/<pid>/stat, clock ticks of 100 Hz). */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/** Prometheus histogram buckets → cumulative counts by upper bound. */
function buckets(text, name) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = line.slice(line.indexOf('le="') + 4, line.indexOf('"', line.indexOf('le="') + 4));
    out.push({ le: le === '+Inf' ? Infinity : Number(le) * 1000, n: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return out.sort((a, b) => a.le - b.le);
}
/** The smallest bucket bound (ms) that holds p% of the observations. */
const bucketP = (b, p) => {
  const total = b.at(-1)?.n ?? 0;
  if (total === 0) return null;
  return b.find((x) => x.n >= (p / 100) * total)?.le ?? null;
};

const pct = (xs, p) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
};

const before = machine();
console.log(`realtime bench: ${CALLS} concurrent barge-in calls, ramp ${RAMP_S} s, load ${before.loadAverage.join(' ')}`);
await callerVoice(24000);
// The realtime server runs in a process of its own (bench/lib/realtime-server-proc.mjs).
const rtProc = spawn(process.execPath, ['bench/lib/realtime-server-proc.mjs'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
const rtLines = createInterface({ input: rtProc.stdout })[Symbol.asyncIterator]();
const rt = JSON.parse((await rtLines.next()).value);
const rtStats = async () => {
  rtProc.stdin.write('stats\n');
  return JSON.parse((await rtLines.next()).value);
};
const redis = await startRedis();
const sim = await startSimulator({});
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const spool = mkdtempSync(join(tmpdir(), 'realtime-spool-'));
const worker = spawn(process.execPath, ['dist/cli.js', 'serve', '--processes', '1'], {
  cwd: ROOT,
  env: {
    ...serveEnv(sim, port),
    REDIS_URL: redis.url,
    APP_NAME: `rt-${process.pid}`,
    APP_ENV: 'bench',
    LOG_LEVEL: 'warn',
    SPOOL_DIR: spool,
    RESPONDER: 'realtime',
    REALTIME_URL: rt.url,
    REALTIME_SILENCE_MS: '300',
    CALL_SILENCE_TIMEOUT_S: '0',
    MAX_CONCURRENT_CALLS: String(Math.max(2000, CALLS * 2)),
    INCOMING_CALLS_PER_WINDOW: '0',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const workerExit = once(worker, 'exit');
let summary;
try {
  for (let i = 0; ; i++) {
    if (worker.exitCode !== null) throw new Error(`worker exited ${worker.exitCode} before it was ready`);
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    if (i > 600) throw new Error('worker not ready after 60 s');
    await new Promise((res) => setTimeout(res, 100));
  }
  const cpu0 = cpuSeconds(worker.pid);
  const t0 = performance.now();
  const report = await sim.runCalls({ target: `${url}/api/incoming-call`, calls: CALLS, concurrency: CALLS, rampS: RAMP_S, scenario: 'barge-in' });
  const wallS = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const cpuS = cpuSeconds(worker.pid) - cpu0;
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const b = buckets(metrics, 'voice_realtime_bridge_seconds');
  const { truncates } = await rtStats();
  const after = machine();
  summary = {
    bench: 'realtime',
    date: after.at,
    node: process.version,
    command: `flock /work/notes/bench.lock node bench/realtime.mjs --calls=${CALLS} --ramp=${RAMP_S}`,
    machineBefore: before,
    machineAfter: after,
    target: { processes: 1, concurrentCalls: CALLS, rampS: RAMP_S, audioFormat: 'pcm24KMono', scenario: 'barge-in' },
    goal: { bridgeP95Ms: 10, bargeInP95Ms: 60 },
    calls: report.calls,
    failuresByCause: report.failuresByCause,
    protocolViolations: report.protocolViolations,
    bridgeMs: { n: b.at(-1)?.n ?? 0, p50AtMost: bucketP(b, 50), p95AtMost: bucketP(b, 95), p99AtMost: bucketP(b, 99), buckets: b.map((x) => ({ leMs: x.le === Infinity ? '+Inf' : x.le, n: x.n })) },
    bargeInMs: report.latency.bargeIn,
    turnMs: report.latency.turn,
    truncates: { n: truncates.length, audioEndMsP50: pct(truncates, 50), audioEndMsMin: pct(truncates, 0) },
    stopAudio: report.stopAudioByScenario,
    workerCpu: { seconds: Math.round(cpuS * 100) / 100, wallS: Math.round(wallS * 10) / 10, perCallS: Math.round((cpuS / CALLS) * 1000) / 1000, coreShare: Math.round((cpuS / wallS) * 1000) / 1000 },
    simulatorEventLoopMs: report.simulator.eventLoopDelayMs,
  };
  summary.pass = summary.bridgeMs.p95AtMost !== null && summary.bridgeMs.p95AtMost <= 10 && (summary.bargeInMs.p95 ?? Infinity) <= 60;
} finally {
  worker.kill('SIGTERM');
  await workerExit;
  await sim.close();
  rtProc.kill('SIGTERM');
  await once(rtProc, 'exit');
  await redis.stop();
  rmSync(spool, { recursive: true, force: true });
}
console.log(`  calls ${JSON.stringify(summary.calls)} failures ${JSON.stringify(summary.failuresByCause)}`);
console.log(`  bridge (first delta -> first frame) p50 <= ${summary.bridgeMs.p50AtMost} ms, p95 <= ${summary.bridgeMs.p95AtMost} ms (n=${summary.bridgeMs.n})`);
console.log(`  barge-in -> stopAudio p50 ${summary.bargeInMs.p50} p95 ${summary.bargeInMs.p95} ms (n=${summary.bargeInMs.count}); truncates ${summary.truncates.n}`);
console.log(`  worker CPU ${summary.workerCpu.seconds} s over ${summary.workerCpu.wallS} s: ${summary.workerCpu.perCallS} s per call`);
console.log(`  load ${summary.machineBefore.loadAverage.join(' ')} -> ${summary.machineAfter.loadAverage.join(' ')}`);
const file = writeResult(outDir(), 'realtime', '', summary);
console.log(`  wrote ${file}`);
process.exit(0);
