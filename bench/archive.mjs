// Archive pipeline throughput and latency against the real SDKs on this machine:
//   baseline: raw @azure/cosmos upserts (16 in flight) of the same documents to the embedded server
//   pipeline: finalizer → Service Bus (local AMQP peer) → archiver (ARCHIVE_CONCURRENCY 16) → Cosmos
// Reports archived/s, the ratio to the baseline (target >= 0.8) and call end → archived p50/p99.
// Usage: npm run bench:archive [-- --quick]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
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
const CONCURRENCY = 16;
const TURNS = 12;

// The local AMQP peer (test support code, TypeScript) runs in its own process, as a broker would,
// so its CPU is not charged to the pipeline under test.
async function startPeerProcess() {
  const code = `import { AmqpPeer } from './test/support/amqp-peer.ts';
    const p = await AmqpPeer.start({ lockDurationMs: 30000 });
    process.stdout.write(JSON.stringify({ cs: p.connectionString() }) + '\\n');
    process.stdin.on('end', () => p.close().then(() => process.exit(0)));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let buf = '';
  child.stdout.setEncoding('utf8');
  while (!buf.includes('\n')) {
    const [chunk] = await once(child.stdout, 'data');
    buf += chunk;
  }
  return { cs: JSON.parse(buf.split('\n')[0]).cs, stop: () => { child.stdin.end(); return once(child, 'exit'); } };
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

const cosmos = await startEmbeddedCosmos();
const policy = { retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 } };
const client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, agent: cosmos.agent, connectionPolicy: policy });
const peer = await startPeerProcess();
const sb = new ServiceBusClient(peer.cs);
const dir = await mkdtemp(join(tmpdir(), 'bench-archive-'));

try {
  // Baseline: raw SDK upserts of equivalent documents.
  const base = await ensureArchiveContainers(client, 'bench-baseline');
  const baseDocs = Array.from({ length: N }, (_, i) => toDocument(makeJob(i), Date.now()));
  await pool(baseDocs.slice(0, 50), CONCURRENCY, (d) => base.transcripts.items.upsert({ ...d, id: `warm-${d.id}`, callId: `warm-${d.id}` }));
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  await pool(baseDocs, CONCURRENCY, (d) => base.transcripts.items.upsert(d));
  const rawRate = N / ((performance.now() - t0) / 1000);
  const rawCpu = cpuPerDoc(cpu0, N);

  // Pipeline.
  const containers = await ensureArchiveContainers(client, 'bench-pipeline');
  const inner = new CosmosArchiveStore(containers.transcripts);
  const lat = [];
  let archived = 0;
  let done;
  const allDone = new Promise((r) => (done = r));
  const store = {
    async write(doc) {
      const r = await inner.write(doc);
      if (r === 'created') {
        lat.push(Date.now() - doc.endedAt);
        if (++archived === N) done();
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
  await queue.enqueue(makeJob(-1)); // connect + attach
  // Phase A (throughput): the backlog of N finished calls is already queued when the archiver starts,
  // as after an outage or a burst; archived/s is comparable with the raw upsert rate.
  await pool(Array.from({ length: N }, (_, i) => i), 32, (i) => queue.enqueue(makeJob(i)));
  const archiver = new ServiceBusArchiver({ client: sb, processor, registry, log }, { ...DEFAULT_ARCHIVER_CONFIG, queue: 'call-archive', concurrency: CONCURRENCY });
  archived = -1; // the warm-up job
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  archiver.start();
  const progress = process.env.BENCH_PROGRESS ? setInterval(() => console.log(`  … ${archived} archived after ${((performance.now() - t0) / 1000).toFixed(1)} s`), 2000) : null;
  await Promise.race([allDone, new Promise((r) => setTimeout(r, 120_000).unref())]); // unref: a finished run exits at once
  const pipeRate = archived / ((performance.now() - t0) / 1000);
  const pipeCpu = cpuPerDoc(cpu0, Math.max(1, archived));
  if (progress) clearInterval(progress);

  // Phase B (latency): calls end at a steady pace (half the raw rate); call end -> archived.
  const M = Math.max(100, Math.floor(N / 2));
  archived = 0;
  lat.length = 0;
  let doneB;
  const allDoneB = new Promise((r) => (doneB = r));
  const target = M;
  const check = setInterval(() => { if (archived >= target) doneB(); }, 20);
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
  clearInterval(check);
  lat.sort((a, b) => a - b);
  await archiver.stop(5000);
  await queue.stop();
  const ratio = pipeRate / rawRate;
  console.log(`archive bench (${quick ? 'quick' : 'full'}): ${N} calls, ${TURNS} turns each, concurrency ${CONCURRENCY}`);
  console.log(`  raw SDK upserts        ${rawRate.toFixed(0)} docs/s`);
  console.log(`  pipeline archived      ${pipeRate.toFixed(0)} calls/s  (backlog of ${N})`);
  console.log(`  ratio                  ${ratio.toFixed(2)}  (target >= 0.80) ${ratio >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
  console.log(`  CPU per doc (this proc) raw ${rawCpu.toFixed(0)} us, pipeline ${pipeCpu.toFixed(0)} us  (x${(pipeCpu / rawCpu).toFixed(2)}; the embedded Cosmos server runs here in both, the AMQP peer is apart)`);
  console.log(`  call end -> archived   p50 ${pct(lat, 50)} ms  p99 ${pct(lat, 99)} ms  max ${lat[lat.length - 1]} ms  (${lat.length} calls paced at ${(1000 / gapMs).toFixed(0)}/s)`);
  console.log(`  spool writes           ${(await registry.getSingleMetric('voice_archive_spool_writes_total')?.get())?.values[0]?.value ?? 0}`);
} finally {
  await sb.close().catch(() => undefined);
  await peer.stop();
  client.dispose();
  await cosmos.close();
  await rm(dir, { recursive: true, force: true });
}
