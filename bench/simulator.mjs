// Simulator capacity: N concurrent media streams (default 1,000) for D seconds (default 40, ramp BENCH_RAMP=20 s: 50 new calls a second, then ~20 s with all N streaming) against a
// trivial sink in a child process. Reports the simulator's own event-loop delay, late ticks, frames
// sent vs the ideal 50 per second per stream, and what the sink received. Build first (npm run build).
//   BENCH_CALLS=1000 BENCH_SECONDS=40 BENCH_RAMP=20 node bench/simulator.mjs
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/simulator.js';
import { applyV8Tuning } from '../dist/v8-tuning.js';

// As `voice-worker simulate` runs (V8_PRETENURING=true: V8's default, for comparison).
applyV8Tuning({ pretenuring: process.env.V8_PRETENURING === 'true' });

const calls = Number(process.env.BENCH_CALLS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 40);
const rampS = Number(process.env.BENCH_RAMP ?? 20);

const sim = await startSimulator();
const sink = fork(fileURLToPath(new URL('./simulator-sink.mjs', import.meta.url)), [sim.acsConnectionString]);
const ask = (m) => new Promise((r) => (sink.once('message', r), m && sink.send(m)));
const { url } = await ask();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const report = await sim.runCalls({ target: url, calls, concurrency: calls, rampS, durationS: seconds, scenario: 'silence' });
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const sinkStats = await ask('stats');
sink.send('exit');
await sim.close();
const streamSeconds = sim.calls.reduce((s, c) => s + ((c.endedAt ?? 0) - (c.answeredAt ?? 0)) / 1000, 0);
const ideal = Math.round(streamSeconds * 50);
console.log(
  JSON.stringify(
    {
      bench: 'simulator-capacity',
      calls,
      secondsPerCall: seconds,
      wallS: Number(wall.toFixed(1)),
      simulatorCpuS: { user: Number((cpu.user / 1e6).toFixed(1)), system: Number((cpu.system / 1e6).toFixed(1)) },
      succeeded: report.calls.succeeded,
      failures: report.failuresByCause,
      maxActive: report.calls.maxActive,
      framesSent: report.frames.sent,
      framesIdeal: ideal,
      sentVsIdeal: Number((report.frames.sent / ideal).toFixed(3)),
      framesDropped: report.frames.dropped,
      sinkMessages: sinkStats.messages,
      sinkSockets: sinkStats.sockets,
      answerP50Ms: Number(report.latency.answer.p50.toFixed(1)),
      answerP99Ms: Number(report.latency.answer.p99.toFixed(1)),
      eventLoopDelayMs: report.simulator.eventLoopDelayMs,
      lateTicks: report.simulator.lateTicks,
      skippedTicks: report.simulator.skippedTicks,
    },
    null,
    2,
  ),
);
