// Turn writes against Redis: 1,000 concurrent simulated conversations append turns through the
// production wiring (createRedisState). Reports turn write latency p50/p99 at a paced load, round
// trips per turn (counted at the socket), and saturated turns/s against a `redis-benchmark -P 16`
// ceiling measured on the same server in the same run.
//
//   node bench/redis.mjs [--quick]        (imports from dist/: `npm run bench:redis` builds first)
//   REDIS_URL=redis://host:port node bench/redis.mjs   to use an existing server (keys under bench-<id>)
//
// --critical-path: whole turns through the production wiring (createRedisState + wireConversation,
// local responder, Flite) and counts, per turn, the Redis round trips from the caller's final
// transcript to the first agent frame handed to the media outlet (socket writes naming the call's
// keys or the TTS cache; background PINGs and heartbeats name neither). Three cases: a replica that
// holds the reply's sentences in its in-process TTS tier (the steady state of the fixed lines), a
// replica without that tier (TTS_CACHE_MEMORY_MB=0: the sentences come from Redis), and replies never
// said before (an echo responder: synthesized). Writes bench/results/redis-critical-path-<UTC>.json
// (`--out=DIR` elsewhere; never overwritten; load average before and after).
//   npm run build && node bench/redis.mjs --critical-path [--quick]
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
import { commandsOf, countRoundTrips, scriptNamesBySha } from '../test/support/round-trips.mjs';
import { machine, outDir, writeResult } from './lib/results.mjs';

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

// --- --critical-path ------------------------------------------------------------------------------

const REPLIES = ['When are you open?', 'What can you do?', 'I need to talk to an agent', 'Can you repeat that?', 'Thanks, goodbye'];

async function replica(url, appName, env = {}) {
  const { wireConversation } = await import('../dist/wiring/conversation-wiring.js');
  const config = loadConfig({ REDIS_URL: url, APP_NAME: appName, APP_ENV: 'bench', LOG_LEVEL: 'silent', REDIS_COMMAND_TIMEOUT_MS: '5000', ...env });
  const client = createRedisClient(config.state, silentLogger());
  await waitForReady(client, 10_000);
  const clock = { now: Date.now, monotonic: () => performance.now() };
  const wired = createRedisState({ client, registry: createRegistry({ defaultMetrics: false }), log: silentLogger(), clock }, config);
  const rt = countRoundTrips(client, { record: true });
  const make = (responder) =>
    wireConversation(
      { ...wired.state, registry: createRegistry({ defaultMetrics: false }), log: silentLogger(), clock, clients: { openai: null, speechToken: null }, ...(responder ? { responder } : {}) },
      config,
    );
  return { config, client, wired, rt, make };
}

/** One caller turn on `call`: Redis writes of this call or the TTS cache before the first frame, and its latency. */
async function measuredTurn(r, call, text, scripts) {
  const start = r.rt.writes.length;
  let atFrame = -1;
  let t0 = 0;
  let ms = 0;
  let ended;
  const done = new Promise((res) => (ended = res));
  call.media = {
    sampleRate: 16000,
    speaking: false,
    speak: () => {
      if (atFrame >= 0) return;
      atFrame = r.rt.writes.length;
      ms = performance.now() - t0;
    },
    endUtterance: (id) =>
      queueMicrotask(() => {
        call.events.emit('playoutDone', { utteranceId: id, playedMs: 1, totalMs: 1, interrupted: false });
        ended();
      }),
    stop: () => ({ utteranceId: null, playedMs: 0 }),
  };
  const seqBefore = call.nextSeq;
  t0 = performance.now();
  call.events.emit('transcript', { text, final: true, confidence: 0.95, participant: null, at: Date.now() });
  await done;
  // The turn is stored (user + assistant) before the next one: its writes after the frame are not counted.
  for (let i = 0; i < 500; i++) {
    const s = await r.wired.redisConversations.getState(call.callId);
    if (s.turnCount >= seqBefore + 1) break;
    await sleep(2);
  }
  await sleep(5);
  const own = (w) => w.includes(`{${call.callId}}`) || w.includes(':tts:');
  const before = r.rt.writes.slice(start, atFrame).filter(own).map((w) => commandsOf(w, scripts).map((c) => c[0]));
  return { roundTrips: before.length, commands: before, ms };
}

async function casePhase(r, name, wiring, calls, turnsPerCall, textOf, scripts) {
  const { LiveCall } = await import('../dist/domain/live-call.js');
  const turns = [];
  for (let c = 0; c < calls; c++) {
    const call = new LiveCall({ callId: `${name}-${c}-${randomUUID().slice(0, 6)}`, from: 'caller', to: 'agent', correlationId: null, startedAt: Date.now(), log: silentLogger() });
    const pipeline = wiring.attach(call, { callControl: null });
    for (let t = 0; t < turnsPerCall; t++) turns.push(await measuredTurn(r, call, textOf(c, t), scripts));
    pipeline.stop();
  }
  const rts = turns.map((t) => t.roundTrips);
  const ms = turns.map((t) => t.ms).sort((x, y) => x - y);
  const shapes = new Map();
  for (const t of turns) {
    const k = t.commands.map((w) => w.join('+')).join(' | ');
    shapes.set(k, (shapes.get(k) ?? 0) + 1);
  }
  return {
    case: name,
    turns: turns.length,
    roundTripsPerTurn: rts.reduce((a, b) => a + b, 0) / turns.length,
    roundTripsMin: Math.min(...rts),
    roundTripsMax: Math.max(...rts),
    writesBeforeFirstFrame: Object.fromEntries(shapes),
    firstFrameMs: { p50: pct(ms, 50), p95: pct(ms, 95), p99: pct(ms, 99), max: ms.at(-1) },
  };
}

async function criticalPath() {
  const before = machine();
  const server = await privateRedis();
  const appName = `bench-${randomUUID().slice(0, 8)}`;
  const { loadScripts } = await import('../dist/adapters/redis/scripts.js');
  const scripts = scriptNamesBySha(loadScripts().values());
  const calls = quick ? 8 : 40;
  const turnsPerCall = REPLIES.length;
  // Replica A: warmed up like serve (Flite compiled, the fixed lines synthesized into both tiers).
  const a = await replica(server.url, appName);
  const wiringA = a.make();
  await wiringA.warmUp(AbortSignal.timeout(60_000));
  await sleep(200); // the warm-up's Redis stores go out after their event-loop turn
  // Replica B: the same Redis, no in-process tier: every sentence comes from Redis.
  const b = await replica(server.url, appName, { TTS_CACHE_MEMORY_MB: '0' });
  const wiringB = b.make();
  const echo = {
    name: 'echo',
    async *respond(input) {
      yield { type: 'text', text: `You said ${input.input.text}.` };
    },
  };
  const wiringUnique = a.make(echo);
  const cases = [
    await casePhase(a, 'memory', wiringA, calls, turnsPerCall, (_c, t) => REPLIES[t], scripts),
    await casePhase(b, 'redis', wiringB, calls, turnsPerCall, (_c, t) => REPLIES[t], scripts),
    await casePhase(a, 'unique', wiringUnique, Math.max(2, calls / 4), turnsPerCall, () => `topic ${randomUUID().slice(0, 8)}`, scripts),
  ];
  for (const r of [a, b]) await r.wired.close(0);
  let cursor = '0';
  do {
    const [next, keys] = await a.client.scan(cursor, 'MATCH', `${appName}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await a.client.del(...keys);
  } while (cursor !== '0');
  await a.client.quit();
  await b.client.quit();
  await server.stop();
  const after = machine();
  const label = { memory: 'sentences in the replica\'s memory', redis: 'sentences only in Redis (TTS_CACHE_MEMORY_MB=0)', unique: 'reply never said before (synthesized)' };
  const f = (ms) => `${ms.toFixed(2)} ms`;
  console.log(`redis critical path (${quick ? 'quick' : 'full'}): caller's final transcript → first agent frame, local responder + Flite, sequential turns (load average before ${before.loadAverage.join(' ')})`);
  for (const c of cases) {
    console.log(`  ${label[c.case]}: round trips on the critical path per turn: ${c.roundTripsPerTurn.toFixed(3)} (min ${c.roundTripsMin}, max ${c.roundTripsMax}, ${c.turns} turns); first frame p50 ${f(c.firstFrameMs.p50)} p99 ${f(c.firstFrameMs.p99)}`);
    for (const [shape, n] of Object.entries(c.writesBeforeFirstFrame)) console.log(`      ${n} × ${shape || '(none)'}`);
  }
  const headline = cases[0];
  console.log(`round trips on the critical path per turn = ${headline.roundTripsPerTurn.toFixed(3)} (${label.memory}; max ${headline.roundTripsMax})`);
  console.log(`  load average after ${after.loadAverage.join(' ')}`);
  const summary = {
    bench: 'redis-critical-path',
    criteria: 'v2',
    mode: quick ? 'quick' : 'full',
    date: after.at,
    node: process.version,
    machineBefore: before,
    machineAfter: after,
    counted: 'socket writes (one per command or pipeline) naming the call\'s keys or the TTS cache, from the final transcript to the first speak() on the media outlet',
    roundTripsPerTurn: headline.roundTripsPerTurn,
    cases,
  };
  const file = writeResult(outDir(), 'redis-critical-path', quick ? '-quick' : '', summary);
  console.log(`  wrote ${file}`);
  process.exit(0);
}

(process.argv.includes('--critical-path') ? criticalPath() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
