// The media bench's pass/fail rules, in one place (bench/media.mjs applies them; a unit test pins them).
import { spread } from './results.mjs';

export const LIMITS = Object.freeze({ cpuPctOfOneCore: 90, lateGapMs: 30, lateArrivalPct: 0.5, loopP99Ms: 20, jitterP99Ms: 5, driverSkippedPct: 0.5 });

const r = (v, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * Why one window fails (empty: it passes). `w` is the target's window report (processCpuMs per
 * process, lateArrivalPct, loopP99Ms, jitterP99Ms — null for a target that plays no audio), `stats`
 * the driver's, `periods` the driver's 20 ms periods in warm-up + window.
 */
export function windowFailures(w, stats, { windowMs, periods, limits = LIMITS }) {
  const fails = [];
  const maxCpu = Math.max(...w.processCpuMs.map((ms) => (ms / windowMs) * 100));
  if (maxCpu >= limits.cpuPctOfOneCore) fails.push(`cpu ${r(maxCpu, 1)}% >= ${limits.cpuPctOfOneCore}%`);
  if (w.lateArrivalPct > limits.lateArrivalPct) fails.push(`late arrivals ${r(w.lateArrivalPct, 3)}% > ${limits.lateArrivalPct}%`);
  if (w.loopP99Ms > limits.loopP99Ms) fails.push(`loop p99 ${r(w.loopP99Ms)} ms > ${limits.loopP99Ms}`);
  if (w.jitterP99Ms !== null && w.jitterP99Ms > limits.jitterP99Ms) fails.push(`jitter p99 ${r(w.jitterP99Ms)} ms > ${limits.jitterP99Ms}`);
  const skipped = stats.skippedTicks ?? 0;
  const dropped = stats.dropped ?? 0;
  if (skipped > (periods * limits.driverSkippedPct) / 100 || dropped > 0) fails.push(`driver short (skipped ${skipped}, dropped ${dropped})`);
  if (stats.closed > 0) fails.push(`${stats.closed} sockets closed`);
  return fails;
}

/** A step passes when a majority of its windows pass (2 of 3). */
export function stepPassed(rows, windows) {
  return rows.filter((x) => x.ok).length >= Math.floor(windows / 2) + 1;
}

/**
 * CPU per call, baseline / worker, at the largest step both passed (null when there is none): the
 * median ratio and the extremes' ratio as spread. `steps`: {target, n, passed, cpuPctPerCall: spread}.
 */
export function cpuRatio(steps, ladder, worker) {
  const at = (name, n) => steps.find((s) => s.target === name && s.n === n);
  const common = ladder.filter((n) => at('baseline', n)?.passed && at(worker, n)?.passed).at(-1) ?? null;
  if (common === null) return { commonStep: null, cpuPerCallRatio: null };
  const b = at('baseline', common).cpuPctPerCall;
  const w = at(worker, common).cpuPctPerCall;
  return { commonStep: common, cpuPerCallRatio: { median: r(b.median / w.median), min: r(b.min / w.max), max: r(b.max / w.min) }, baselineCpuPctPerCall: b, workerCpuPctPerCall: w };
}

export { spread };
