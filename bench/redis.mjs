// Turn writes against Redis: 1,000 concurrent simulated conversations append turns through the
// production wiring (createRedisState). Reports turn write latency p50/p99 at a paced load, round
// trips per turn (counted at the socket), and saturated turns/s against a `redis-benchmark -P 16`
// ceiling measured on the same server in the same run.
//
//   node bench/redis.mjs [--quick]        (imports from dist/: `npm run bench:redis` builds first)
//   REDIS_URL=redis://host:port node bench/redis.mjs   to use an existing server (keys under bench-<id>)
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { availableParallelism, loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../dist/config.js';
import { silentLogger } from '../dist/logger.js';
import { createRegistry } from '../dist/metrics.js';
import { waitForReady } from '../dist/adapters/redis/redis-client.js';
import { createRedisClient } from '../dist/wiring/clients.js';
import { createRedisState } from '../dist/wiring/redis-wiring.js';
import { countRoundTrips } from '../test/support/round-trips.mjs';

const quick = process.argv.includes('--quick');
const CONVERSATIONS = 1000;
const PACED_TURNS = quick ? 6 : 30; // per conversation, with think time between turns
const THINK_MS = quick ? [100, 300] : [200, 600];
const SATURATED_TURNS = quick ? 5 : 20; // per conversation, back to back
const CEILING_REQUESTS = quick ? 200_000 : 1_000_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => (c.destroy(), resolve(false)));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`redis-server did not listen on ${port}`);
}

async function privateRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => undefined };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitPort(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function ceiling(url) {
  const u = new URL(url);
  const r = spawnSync('redis-benchmark', ['-h', u.hostname, '-p', u.port || '6379', '-P', '16', '-t', 'set', '-n', String(CEILING_REQUESTS), '-c', '50', '-q'], { encoding: 'utf8' });
  const m = /SET:\s*([\d.]+)\s*requests per second/.exec(`${r.stdout}${r.stderr}`);
  return m ? Number(m[1]) : NaN;
}

const turn = (seq) => ({ seq, speaker: seq % 2 ? 'user' : 'assistant', text: `turn ${seq}: ${'lorem ipsum dolor sit amet '.repeat(3)}`, at: Date.now(), kind: 'speech', confidence: 0.93 });

async function main() {
  const server = await privateRedis();
  const appName = `bench-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ REDIS_URL: server.url, APP_NAME: appName, APP_ENV: 'bench', LOG_LEVEL: 'silent', REDIS_COMMAND_TIMEOUT_MS: '5000', HISTORY_MAX_TURNS: '200' });
  const client = createRedisClient(config.state, silentLogger());
  await waitForReady(client, 10_000);
  const wired = createRedisState({ client, registry: createRegistry({ defaultMetrics: false }), log: silentLogger(), clock: { now: Date.now, monotonic: () => performance.now() } }, config);
  // --raw: the Redis adapter alone, without the outage wrapper (in-process mirror + outbox)
  const store = process.argv.includes('--raw') ? wired.redisConversations : wired.state.conversations;
  const rt = countRoundTrips(client);
  await store.appendTurn('warm-up', turn(1)); // loads the script on the server

  // 1) paced: 1,000 live conversations, each taking a turn after some think time
  const latencies = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let rt0 = rt.count;
  await Promise.all(
    Array.from({ length: CONVERSATIONS }, async (_, c) => {
      await sleep(Math.random() * THINK_MS[1]);
      for (let seq = 1; seq <= PACED_TURNS; seq++) {
        const t0 = performance.now();
        await store.appendTurn(`paced-${c}`, turn(seq));
        latencies.push(performance.now() - t0);
        await sleep(THINK_MS[0] + Math.random() * (THINK_MS[1] - THINK_MS[0]));
      }
    }),
  );
  loopDelay.disable();
  const pacedTurns = CONVERSATIONS * PACED_TURNS;
  const roundTripsPerTurn = (rt.count - rt0) / pacedTurns;
  latencies.sort((a, b) => a - b);

  // 2) saturated: the same 1,000 conversations appending back to back
  rt0 = rt.count;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONVERSATIONS }, async (_, c) => {
      for (let seq = 1; seq <= SATURATED_TURNS; seq++) await store.appendTurn(`sat-${c}`, turn(seq));
    }),
  );
  const satSeconds = (performance.now() - t0) / 1000;
  const satTurns = CONVERSATIONS * SATURATED_TURNS;
  const satTurnsPerSec = satTurns / satSeconds;
  const satRtPerTurn = (rt.count - rt0) / satTurns;

  // 3) the ceiling of this server on this machine: redis-benchmark SET with 16-deep pipelining
  const ceilingOps = ceiling(server.url);

  // clean up our keys
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await client.del(...keys);
  } while (cursor !== '0');
  await wired.close(0);
  await client.quit();
  await server.stop();

  const f = (ms) => `${ms.toFixed(3)} ms`;
  console.log(`redis turn writes (${quick ? 'quick' : 'full'}): ${CONVERSATIONS} concurrent conversations`);
  console.log(`  paced     ${pacedTurns} turns (think ${THINK_MS[0]}-${THINK_MS[1]} ms): p50 ${f(pct(latencies, 50))}  p99 ${f(pct(latencies, 99))}  max ${f(latencies[latencies.length - 1])}`);
  console.log(`  event-loop delay during the paced phase: p99 ${f(loopDelay.percentile(99) / 1e6)}  max ${f(loopDelay.max / 1e6)}  (load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores)`);
  console.log(`  round trips per turn: ${roundTripsPerTurn.toFixed(3)} (paced), ${satRtPerTurn.toFixed(3)} (saturated)`);
  console.log(`  saturated ${satTurns} turns back to back: ${Math.round(satTurnsPerSec)} turns/s`);
  console.log(`  ceiling   redis-benchmark -P 16 SET: ${Math.round(ceilingOps)} ops/s  → turns/s = ${((satTurnsPerSec / ceilingOps) * 100).toFixed(1)} % of ceiling`);
  console.log(
    JSON.stringify({
      bench: 'redis',
      mode: quick ? 'quick' : 'full',
      conversations: CONVERSATIONS,
      pacedTurns,
      p50Ms: pct(latencies, 50),
      p99Ms: pct(latencies, 99),
      eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loadAverage: loadavg()[0],
      roundTripsPerTurn,
      saturatedTurnsPerSec: satTurnsPerSec,
      ceilingOpsPerSec: ceilingOps,
      ratio: satTurnsPerSec / ceilingOps,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
