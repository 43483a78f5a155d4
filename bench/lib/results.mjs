// Result files: every run keeps its own file (timestamped name, never overwritten) with the machine's
// load average before and after, so a figure can always be traced to the run that produced it and a
// run on a busy machine can be told from one on a quiet machine.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** `--out=DIR` from argv (smoke runs write to /tmp), else bench/results. */
export function outDir(argv = process.argv) {
  const a = argv.find((x) => x.startsWith('--out='));
  return a ? a.slice(6) : RESULTS_DIR;
}

/** What the machine looked like: call at the start and at the end of a run. */
export function machine() {
  return { at: new Date().toISOString(), loadAverage: loadavg().map((v) => Math.round(v * 100) / 100), cores: cpus().length };
}

/** Writes `<kind>-<UTC timestamp><variant>.json` in dir (a numeric suffix if that name exists). Returns the path. */
export function writeResult(dir, kind, variant, summary) {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  let file = join(dir, `${kind}-${stamp}${variant}.json`);
  for (let i = 2; existsSync(file); i++) file = join(dir, `${kind}-${stamp}${variant}-${i}.json`);
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`, { flag: 'wx' });
  return file;
}

/** Median and min-max of a list of numbers (nulls ignored; null when none). */
export function spread(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v.at(-1), n: v.length };
}
