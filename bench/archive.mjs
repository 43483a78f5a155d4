// Archive pipeline throughput and latency against the real SDKs on this machine, like for like:
//   pipeline: finalizer's enqueue → Service Bus (local AMQP peer) → archiver (ARCHIVE_CONCURRENCY 16)
//             → Cosmos, timed from the first send to the last stored transcript (the send is included)
//   baseline 1: raw @azure/cosmos bulk creates of the same documents (16 per request, 2 in flight)
//   baseline 2: raw @azure/cosmos single upserts (16 in flight)
// Both ratios are reported (pipeline / bulk is the goal's: >= 0.8).
// Both stand-ins (the Cosmos-compatible server and the AMQP peer) run in processes of their own, as the
// real services are remote: this process holds only what the worker would run. Rounds alternate
// (raw, pipeline, raw, pipeline, ...) after an unreported warm-up round of each, so JIT warm-up and the
// server's growing heap fall on both sides alike; each ratio reported is the median of the rounds'.
// Reports archived/s, both ratios, CPU per document of each process and call end → archived p50/p99.
// Writes bench/results/archive-<UTC timestamp>.json (never overwritten; load average before and after).
// Usage: npm run bench:archive [-- --quick] [-- --rounds=3] [-- --cosmos=inproc] [-- --bulk=off] [-- --out=/tmp/x]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { machine, outDir, writeResult } from './lib/results.mjs';
import { Session } from 'node:inspector/promises';
import { Agent } from 'node:https';
import { CosmosClient } from '@azure/cosmos';
import { ServiceBusClient } from '@azure/service-bus';
import { startEmbeddedCosmos } from '../dist/adapters/cosmos/embedded-cosmos-server.js';
import { ensureArchiveContainers } from '../dist/adapters/cosmos/cosmos-containers.js';
import { CosmosArchiveStore, toDocument } from '../dist/adapters/cosmos/cosmos-archive-store.js';
import { CosmosClaimStore } from '../dist/adapters/cosmos/cosmos-claim-store.js';
import { FileSpool } from '../dist/adapters/spool/file-spool.js';
import { ArchiveProcessor } from '../dist/adapters/servicebus/archive-processor.js';
import { ServiceBusArchiveQueue } from '../dist/adapters/servicebus/servicebus-archive-queue.js';
import { ServiceBusArchiver, DEFAULT_ARCHIVER_CONFIG } from '../dist/adapters/servicebus/servicebus-archiver.js';
import { buildArchiveJob } from '../dist/domain/archive/job-builder.js';
import { createRegistry } from '../dist/metrics.js';
import { silentLogger } from '../dist/logger.js';

const quick = process.argv.includes('--quick');
const N = Number(process.env.BENCH_ARCHIVE_N) || (quick ? 400 : 3000);
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const ROUNDS = roundsArg ? Number(roundsArg.slice(9)) : quick ? 1 : 3;
// --cosmos=inproc: the Cosmos stand-in in this process (how earlier runs measured; its CPU then falls on both sides).
const COSMOS_INPROC = process.argv.includes('--cosmos=inproc');
const WARMUP = Math.min(1000, N);
// --bulk=off: the archiver creates each transcript with a request of its own (ARCHIVE_BULK_WRITES=false).
const BULK = !process.argv.includes('--bulk=off');
const CONCURRENCY = 16;
const TURNS = 12;

/**
 * Runs `code` (an ES module, from the repository root) in a process of its own; it writes one JSON
 * line when ready and exits when its stdin closes. Returns that line's object, the pid and stop().
 */
async function startStandIn(code, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let buf = '';
  child.stdout.setEncoding('utf8');
  while (!buf.includes('\n')) {
    const [chunk] = await once(child.stdout, 'data');
    buf += chunk;
  }
  return { ready: JSON.parse(buf.split('\n')[0]), pid: child.pid, stop: () => { child.stdin.end(); return once(child, 'exit'); } };
}

// The local AMQP peer (test support code, TypeScript) runs in its own process, as a broker would,
// so its CPU is not charged to the pipeline under test.
async function startPeerProcess() {
  const p = await startStandIn(`import { AmqpPeer } from './test/support/amqp-peer.ts';
    const p = await AmqpPeer.start({ lockDurationMs: 30000 });
    process.stdout.write(JSON.stringify({ cs: p.connectionString() }) + '\\n');
    process.stdin.on('end', () => p.close().then(() => process.exit(0)));
    process.stdin.resume();`, ['--import', 'tsx']);
  return { cs: p.ready.cs, pid: p.pid, stop: p.stop };
}

// The Cosmos-compatible server (the same embedded server the demo uses) in a process of its own.
async function startCosmosProcess() {
  const c = await startStandIn(`import { startEmbeddedCosmos } from './dist/adapters/cosmos/embedded-cosmos-server.js';
    const c = await startEmbeddedCosmos();
    process.stdout.write(JSON.stringify({ endpoint: c.endpoint, key: c.key, cert: c.cert }) + '\\n');
    process.stdin.on('end', () => c.close().then(() => process.exit(0)));
    process.stdin.resume();`);
  const agent = new Agent({ ca: c.ready.cert, keepAlive: true });
  return {
    endpoint: c.ready.endpoint,
    key: c.ready.key,
    agent,
    pid: c.pid,
    close: () => {
      agent.destroy();
      return c.stop();
    },
  };
}

/** CPU seconds (user + system) a child process has used so far (Linux /proc; null elsewhere). */
function childCpuSeconds(pid) {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

function makeJob(i) {
  const callId = randomUUID();
  const startedAt = Date.now() - 120_000;
  const history = Array.from({ length: TURNS }, (_, k) => ({
    seq: k + 1,
    speaker: k % 2 ? 'assistant' : 'user',
    text: `turn ${k + 1} of call ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(3)}`,
    at: startedAt + k * 5000,
  }));
  return buildArchiveJob({
    call: { callId, from: '4:+14255550123', to: '4:+14255550199', startedAt, callConnectionId: null, correlationId: null },
    conversation: { callId, schemaVersion: 1, context: {}, history, turnCount: TURNS },
    outcome: 'completed',
    endedAt: Date.now(),
  });
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** CPU time (user + system, all threads) of this process since `since`, per document. */
function cpuPerDoc(since, n) {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / n;
}

async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const before = machine();
const cosmos = COSMOS_INPROC ? await startEmbeddedCosmos() : await startCosmosProcess();
const policy = { retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 } };
const client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, agent: cosmos.agent, connectionPolicy: policy });
const peer = await startPeerProcess();
const sb = new ServiceBusClient(peer.cs);
const dir = await mkdtemp(join(tmpdir(), 'bench-archive-'));

// BENCH_CPU_PROF=<dir>: a CPU profile of this process for each measured round (raw-2, pipeline-2, ...).
const PROF_DIR = process.env.BENCH_CPU_PROF;
const inspector = PROF_DIR ? new Session() : null;
if (inspector) {
  inspector.connect();
  mkdirSync(PROF_DIR, { recursive: true });
  await inspector.post('Profiler.enable');
}

/** CPU used by this process and each stand-in during fn(), in µs per document. */
async function measured(n, fn, label) {
  if (inspector && label) await inspector.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  const cosmos0 = childCpuSeconds(cosmos.pid);
  const peer0 = childCpuSeconds(peer.pid);
  const t0 = performance.now();
  const count = (await fn()) ?? n;
  const secs = (performance.now() - t0) / 1000;
  if (inspector && label) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(join(PROF_DIR, `${label}.cpuprofile`), JSON.stringify(profile));
  }
  const perDoc = (a, b) => (a === null || b === null ? null : ((b - a) * 1e6) / Math.max(1, count));
  return {
    rate: count / secs,
    count,
    cpuUs: cpuPerDoc(cpu0, Math.max(1, count)),
    cosmosCpuUs: perDoc(cosmos0, childCpuSeconds(cosmos.pid)),
    peerCpuUs: perDoc(peer0, childCpuSeconds(peer.pid)),
  };
}

try {
  const base = await ensureArchiveContainers(client, 'bench-baseline');
  const containers = await ensureArchiveContainers(client, 'bench-pipeline');
  const bulkSizes = [];
  const inner = new CosmosArchiveStore(containers.transcripts, { bulk: BULK, onBulkBatch: (n) => bulkSizes.push(n) });
  const lat = [];
  let archived = 0;
  let target = Infinity;
  let done = () => undefined;
  const store = {
    async write(doc, bytes) {
      const r = await inner.write(doc, bytes);
      if (r === 'created') {
        lat.push(Date.now() - doc.endedAt);
        if (++archived >= target) done();
      }
      return r;
    },
    getTranscript: (id) => inner.getTranscript(id),
  };
  const registry = createRegistry({ defaultMetrics: false });
  const log = silentLogger();
  const claims = new CosmosClaimStore(containers.claims);
  const processor = new ArchiveProcessor({ store, sessions: null, claims, registry });
  const queue = new ServiceBusArchiveQueue({ sender: sb.createSender('call-archive'), spool: new FileSpool(dir), claims, registry, log });
  const newArchiver = () => new ServiceBusArchiver({ client: sb, processor, registry, log }, { ...DEFAULT_ARCHIVER_CONFIG, queue: 'call-archive', concurrency: CONCURRENCY });

  // Baseline: raw SDK upserts of equivalent documents.
  const rawRound = (n, label) => {
    const docs = Array.from({ length: n }, (_, i) => toDocument(makeJob(i), Date.now()));
    return measured(n, () => pool(docs, CONCURRENCY, (d) => base.transcripts.items.upsert(d)), label);
  };
  // Pipeline (throughput), like for like: the timed part starts with the first Service Bus send and
  // ends when the last transcript is stored — finalizer's enqueue (encode, send), broker, archiver
  // receive, Cosmos write, settle — with the archiver already running, as in a replica.
  const pipelineRound = async (n, label) => {
    archived = 0;
    target = n;
    const finished = new Promise((r) => (done = r));
    const archiver = newArchiver();
    archiver.start();
    const jobs = Array.from({ length: n }, (_, i) => makeJob(i));
    const r = await measured(n, async () => {
      await pool(jobs, 32, (job) => queue.enqueue(job));
      await Promise.race([finished, new Promise((res) => setTimeout(res, 120_000).unref())]); // unref: a finished run exits at once
      return archived;
    }, label);
    await archiver.stop(5000);
    return r;
  };

  // The second baseline: the same documents as raw SDK bulk creates, 16 per request and 2 requests in
  // flight (the write path the archiver uses for what it receives together). Goal: pipeline >= 0.8 of it.
  const bulkRound = (n, label) => {
    const docs = Array.from({ length: n }, (_, i) => toDocument(makeJob(i), Date.now()));
    const groups = [];
    for (let i = 0; i < docs.length; i += CONCURRENCY) groups.push(docs.slice(i, i + CONCURRENCY));
    return measured(n, () => pool(groups, 2, (g) => base.transcripts.items.bulk(g.map((d) => ({ operationType: 'Create', partitionKey: d.callId, resourceBody: d }))).then((r) => {
      if (r.some((x) => x.statusCode !== 201)) throw new Error(`bulk reference: ${r.map((x) => x.statusCode).join(',')}`);
    })), label);
  };

  await queue.enqueue(makeJob(-1)); // connect + attach (archived by the warm-up round)
  await rawRound(WARMUP);
  await bulkRound(WARMUP);
  await pipelineRound(WARMUP + 1);
  const rounds = [];
  for (let k = 0; k < ROUNDS; k++) {
    const raw = await rawRound(N, `raw-${k + 1}`);
    const bulkSeen = bulkSizes.length;
    const pipe = await pipelineRound(N, `pipeline-${k + 1}`);
    const sizes = bulkSizes.slice(bulkSeen);
    const bulk = await bulkRound(N, `bulk-${k + 1}`);
    rounds.push({ raw, pipe, bulk, ratio: pipe.rate / raw.rate, bulkRatio: pipe.rate / bulk.rate, bulkRequests: sizes.length, opsPerBulk: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0 });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const ratio = median(rounds.map((r) => r.ratio));
  const bulkRatio = median(rounds.map((r) => r.bulkRatio));

  // Latency: calls end at a steady pace (half the raw rate); call end -> archived.
  const rawRate = median(rounds.map((r) => r.raw.rate));
  const M = Math.max(100, Math.floor(N / 2));
  archived = 0;
  target = M;
  lat.length = 0;
  const allDoneB = new Promise((r) => (done = r));
  const archiver = newArchiver();
  archiver.start();
  const gapMs = 1000 / Math.max(10, rawRate / 2);
  const tB = performance.now();
  const sends = [];
  for (let i = 0; i < M; i++) {
    const due = tB + i * gapMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sends.push(queue.enqueue({ ...makeJob(i), endedAt: Date.now() }));
  }
  await Promise.all(sends);
  await Promise.race([allDoneB, new Promise((r) => setTimeout(r, 60_000).unref())]);
  lat.sort((a, b) => a - b);
  await archiver.stop(5000);
  await queue.stop();

  const us = (v) => (v === null ? 'n/a' : `${v.toFixed(0)} us`);
  console.log(`archive bench (${quick ? 'quick' : 'full'}): ${N} calls per round, ${ROUNDS} round(s) after a warm-up of ${WARMUP}, ${TURNS} turns each, concurrency ${CONCURRENCY}, Cosmos stand-in ${COSMOS_INPROC ? 'in this process' : 'in its own process'}, archiver bulk creates ${BULK ? 'on' : 'off'}`);
  rounds.forEach((r, k) =>
    console.log(`  round ${k + 1}: raw ${r.raw.rate.toFixed(0)} docs/s, pipeline ${r.pipe.rate.toFixed(0)} calls/s (${r.bulkRequests} bulk requests, ${r.opsPerBulk.toFixed(1)} creates each), raw bulk ${r.bulk.rate.toFixed(0)} docs/s; pipeline / bulk ${r.bulkRatio.toFixed(2)}, / upserts ${r.ratio.toFixed(2)} | CPU per doc: this process raw ${us(r.raw.cpuUs)} / pipeline ${us(r.pipe.cpuUs)}, Cosmos server ${us(r.raw.cosmosCpuUs)} / ${us(r.pipe.cosmosCpuUs)}, AMQP peer - / ${us(r.pipe.peerCpuUs)}`),
  );
  console.log(`  raw SDK upserts        ${rawRate.toFixed(0)} docs/s (median)`);
  console.log(`  pipeline archived      ${median(rounds.map((r) => r.pipe.rate)).toFixed(0)} calls/s (median; ${N} sent and archived each round, send included)`);
  console.log(`  raw SDK bulk creates   ${median(rounds.map((r) => r.bulk.rate)).toFixed(0)} docs/s (median; 16 per request, 2 in flight)`);
  console.log(`  pipeline / raw bulk    ${bulkRatio.toFixed(2)} (median of the rounds' ratios; goal >= 0.80) ${bulkRatio >= 0.8 ? 'OK' : 'BELOW GOAL'}`);
  console.log(`  pipeline / raw upserts ${ratio.toFixed(2)} (median of the rounds' ratios)`);
  console.log(`  call end -> archived   p50 ${pct(lat, 50)} ms  p99 ${pct(lat, 99)} ms  max ${lat[lat.length - 1]} ms  (${lat.length} calls paced at ${(1000 / gapMs).toFixed(0)}/s)`);
  const spoolWrites = (await registry.getSingleMetric('voice_archive_spool_writes_total')?.get())?.values[0]?.value ?? 0;
  console.log(`  spool writes           ${spoolWrites}`);
  const after = machine();
  const date = after.at;
  const round = (v) => (v === null ? null : Math.round(v));
  const summary = {
    bench: 'archive',
    criteria: 'v2',
    mode: quick ? 'quick' : 'full',
    date,
    node: process.version,
    cores: before.cores,
    machineBefore: before,
    machineAfter: after,
    timedPart: 'pipeline: first Service Bus send to last stored transcript (archiver running)',
    callsPerRound: N,
    turnsPerCall: TURNS,
    concurrency: CONCURRENCY,
    cosmosStandIn: COSMOS_INPROC ? 'in-process' : 'own process',
    archiverBulkCreates: BULK,
    ratio: Math.round(ratio * 100) / 100,
    ratioToRawUpserts: Math.round(ratio * 100) / 100,
    ratioToRawBulk: Math.round(bulkRatio * 100) / 100,
    rawPerSecond: round(rawRate),
    pipelinePerSecond: round(median(rounds.map((r) => r.pipe.rate))),
    rawBulkPerSecond: round(median(rounds.map((r) => r.bulk.rate))),
    endToArchivedMs: { p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] ?? null, calls: lat.length },
    rounds: rounds.map((r) => ({
      raw: { perSecond: round(r.raw.rate), cpuUsPerDoc: round(r.raw.cpuUs), cosmosCpuUsPerDoc: round(r.raw.cosmosCpuUs) },
      pipeline: { perSecond: round(r.pipe.rate), cpuUsPerDoc: round(r.pipe.cpuUs), cosmosCpuUsPerDoc: round(r.pipe.cosmosCpuUs), peerCpuUsPerDoc: round(r.pipe.peerCpuUs), bulkRequests: r.bulkRequests, createsPerBulk: Math.round(r.opsPerBulk * 10) / 10 },
      rawBulk: { perSecond: round(r.bulk.rate), cpuUsPerDoc: round(r.bulk.cpuUs) },
      ratio: Math.round(r.ratio * 100) / 100,
      ratioToRawBulk: Math.round(r.bulkRatio * 100) / 100,
    })),
    spoolWrites,
  };
  const variant = `${quick ? '-quick' : ''}${BULK ? '' : '-nobulk'}${COSMOS_INPROC ? '-inproc' : ''}`;
  console.log(`  load average before ${before.loadAverage.join(' ')}, after ${after.loadAverage.join(' ')}`);
  console.log(`wrote ${writeResult(outDir(), 'archive', variant, summary)}`);
} finally {
  await sb.close().catch(() => undefined);
  await peer.stop();
  client.dispose();
  await cosmos.close();
  await rm(dir, { recursive: true, force: true });
}
