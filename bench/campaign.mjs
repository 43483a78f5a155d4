// Outbound campaign end to end (issue 18 item 5, "done when"): one worker (dist/) on the local Redis
// and the embedded Cosmos, the simulator as ACS answering createCall through the real SDK. A campaign
// of 200 targets at concurrency 20: 10 % busy on the first attempt, 5 % no answer on the first
// attempt (both retried after the back-off), 2 % busy twice (retries exhausted), 1 % refused. Every
// answered callee hears the agent start (media socket + conversation loop) and hangs up.
//
// Checks: the campaign completes; every completed target's call id is archived in Cosmos (exactly the
// completed ones); the status route's counts equal the archive's and the simulator's; peak live
// outbound calls ≤ concurrency; no call slot left held.
//
// Run (after `npm run build`):  flock /work/notes/bench.lock node bench/campaign.mjs  [--out=DIR]
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, outDir, writeResult } from './lib/results.mjs';
import { loadConfig } from '../dist/config.js';
import { createWorker } from '../dist/wiring/create-worker.js';
import { silentLogger } from '../dist/logger.js';
import { startSimulator } from '../dist/simulator/simulator.js';
import { freePort } from '../dist/demo/free-port.js';

const TARGETS = Number(process.env.BENCH_TARGETS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const before = machine();
const sim = await startSimulator();
const appName = `bench-campaign-${randomUUID().slice(0, 8)}`;
const port = await freePort();
const config = loadConfig({
  ...sim.workerEnv(),
  APP_NAME: appName,
  APP_ENV: 'bench',
  PORT: String(port),
  PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  SPOOL_DIR: join(tmpdir(), appName),
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  TENANTS: JSON.stringify([{ id: 'acme', maxConcurrent: 100, numbers: [] }]),
  OUTBOUND_CALLER_ID: '+18005550100',
});
const worker = await createWorker(config, silentLogger(), { defaultMetrics: false });
const { url } = await worker.start();
const number = (i) => `+1425556${String(i).padStart(4, '0')}`;
const outcomes = new Map();
for (let i = 0; i < TARGETS; i++) {
  if (i % 100 < 10) outcomes.set(number(i), ['busy']);
  else if (i % 100 < 15) outcomes.set(number(i), ['no-answer']);
  else if (i % 100 < 17) outcomes.set(number(i), ['busy', 'busy']);
  else if (i % 100 === 17) outcomes.set(number(i), ['failed']);
}
sim.outbound({ outcomes, scenario: 'listen', ringMs: 300 });

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, sim.outboundActive)), 5);
const t0 = performance.now();
const now = Date.now();
const res = await fetch(`${url}/api/campaigns`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    id: 'bench-campaign',
    tenant: 'acme',
    targets: Array.from({ length: TARGETS }, (_, i) => number(i)),
    window: { start: new Date(now - 1000).toISOString(), end: new Date(now + 600_000).toISOString() },
    ratePerMinute: 60_000,
    concurrency: CONCURRENCY,
    retries: { max: 1, backoffMs: 500 },
  }),
});
if (res.status !== 201) throw new Error(`POST /api/campaigns: ${res.status} ${await res.text()}`);
let status;
for (;;) {
  status = await (await fetch(`${url}/api/campaigns/bench-campaign`)).json();
  if (status.status === 'completed' || performance.now() - t0 > 300_000) break;
  await new Promise((r) => setTimeout(r, 250));
}
const wallMs = performance.now() - t0;
clearInterval(sampler);
const completed = status.targets.filter((t) => t.state === 'completed');
let archived = 0;
const missing = [];
const deadline = Date.now() + 20_000;
for (const t of completed) {
  for (;;) {
    if (await worker.archive.archive.getTranscript(t.callId)) {
      archived++;
      break;
    }
    if (Date.now() > deadline) {
      missing.push(t.index);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
const simAnswered = sim.calls.filter((c) => c.scenario === 'outbound' && c.failure === undefined).length;
const simCreateCalls = sim.calls.filter((c) => c.scenario === 'outbound').length;
const expected = { completed: TARGETS - Math.ceil(TARGETS / 100) * 3, busy: Math.ceil(TARGETS / 100) * 2, failed: Math.ceil(TARGETS / 100) };
const summary = {
  kind: 'campaign',
  targets: TARGETS,
  concurrency: CONCURRENCY,
  wallMs: Math.round(wallMs),
  campaignStatus: status.status,
  counts: status.counts,
  expected,
  archivedOfCompleted: archived,
  missingArchive: missing,
  simulator: { createCalls: simCreateCalls, answeredAndStreamed: simAnswered, peakLiveOutbound: peak },
  slotsHeldAfter: worker.admission.held,
  agree:
    status.status === 'completed' &&
    status.counts.completed === expected.completed &&
    status.counts.busy === expected.busy &&
    status.counts.failed === expected.failed && archived === completed.length && completed.length === simAnswered && simCreateCalls === status.counts.attempts && peak <= CONCURRENCY,
  before,
  after: machine(),
};
await worker.stop('bench end');
await sim.close();
const file = writeResult(outDir(), 'campaign', '', summary);
console.log(JSON.stringify(summary, null, 2));
console.log(`result: ${file}`);
process.exit(summary.agree ? 0 : 1);
