// The worker under test (its own process, or with BENCH_PROCESSES=N a node:cluster primary and N
// worker processes sharing the port, as `serve --processes N` runs): a real worker from dist/ with
// in-memory state. Calls are created directly through the worker's own state (LiveCall in the registry
// + auth state), the way the IncomingCall path would; with N processes every process holds every call
// (a socket may land on any of them), so RSS per call counts N idle copies. A fraction of calls play
// agent audio continuously (re-speaking after every playoutDone, barge-ins included) so playout
// lateness is measured under load. Inbound arrival gaps and handler time: target-probe.mjs (the same
// probe as the baseline's).
import { resetProbe, readProbe } from './target-probe.mjs';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 1);

function next(child, type) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m.type === type) {
        child.off('message', onMsg);
        resolve(m);
      } else if (m.type === 'error') reject(new Error(m.message));
    };
    child.on('message', onMsg);
  });
}

if (cluster.isPrimary && PROCESSES > 1) await runPrimary();
else await runReplica();

async function runPrimary() {
  const workers = Array.from({ length: PROCESSES }, () => cluster.fork());
  const ports = await Promise.all(workers.map((w) => next(w, 'listening')));
  process.send({ type: 'listening', port: ports[0].port, processes: PROCESSES });
  let cpu0 = process.cpuUsage();
  process.on('message', async (m) => {
    if (m.type === 'prepare') {
      const calls = Array.from({ length: m.n }, () => ({ callId: randomUUID(), secret: randomBytes(18).toString('base64url') }));
      const ready = workers.map((w) => next(w, 'prepared'));
      for (const w of workers) w.send({ ...m, calls });
      await Promise.all(ready);
      process.send({ type: 'prepared', calls });
    } else if (m.type === 'window-start') {
      for (const w of workers) w.send(m);
      cpu0 = process.cpuUsage();
    } else if (m.type === 'window-end') {
      const all = workers.map((w) => next(w, 'window'));
      for (const w of workers) w.send(m);
      const ws = await Promise.all(all);
      const own = process.cpuUsage(cpu0);
      const sum = (k) => ws.reduce((a, w) => a + (w[k] ?? 0), 0);
      const max = (k) => (ws.every((w) => w[k] === null) ? null : Math.max(...ws.map((w) => w[k] ?? 0)));
      const arrivals = sum('arrivals');
      process.send({
        type: 'window',
        // Percentiles of N processes cannot be merged from percentiles: the worst process's is reported.
        loopP99Ms: max('loopP99Ms'),
        jitterP99Ms: max('jitterP99Ms'),
        handlerP50Ms: max('handlerP50Ms'),
        handlerP99Ms: max('handlerP99Ms'),
        handlerCount: sum('handlerCount'),
        arrivals,
        lateArrivals: sum('lateArrivals'),
        lateArrivalPct: arrivals > 0 ? (sum('lateArrivals') / arrivals) * 100 : 0,
        sockets: sum('sockets'),
        sessions: sum('sessions'),
        // The primary only accepts connections and hands them out; its CPU is the box's too.
        cpuMs: sum('cpuMs') + (own.user + own.system) / 1000,
        sysMs: sum('sysMs') + own.system / 1000,
        processCpuMs: ws.map((w) => w.cpuMs),
        primaryCpuMs: (own.user + own.system) / 1000,
        rssDelta: sum('rssDelta'),
        heapDelta: sum('heapDelta'),
        n: ws[0].n,
        bargeIns: sum('bargeIns'),
        gaps: sum('gaps'),
        late: sum('late'),
        framesIn: sum('framesIn'),
      });
    } else if (m.type === 'exit') {
      for (const w of workers) w.send(m);
      await Promise.all(workers.map((w) => new Promise((r) => (w.isDead() ? r() : w.once('exit', r)))));
      process.exit(0);
    }
  });
}

async function runReplica() {
  const { loadConfig } = await import('../../dist/config.js');
  const { createWorker } = await import('../../dist/wiring/create-worker.js');
  const { silentLogger } = await import('../../dist/logger.js');
  const { LiveCall } = await import('../../dist/domain/live-call.js');
  const { histogramPercentileMs } = await import('./percentile.mjs');
  const raw = readFileSync(new URL('../../test/fixtures/speech-16k.pcm', import.meta.url));
  const AGENT = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));

  const config = loadConfig({
    APP_NAME: 'bench-media',
    APP_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    STATE_BACKEND: 'memory',
    // The per-call secret is still checked; JWT verification is once per connection and not what is measured.
    ACS_AUTH_DISABLED_DEV_ONLY: 'true',
    // Bench calls never reach the conversation loop; without this the local TTS warm-up (several seconds
    // of flite synthesis on a worker thread) would run during the measured window, which the baseline
    // does not pay and a replica pays once before it takes calls.
    TTS: 'acs',
  });
  const worker = await createWorker(config, silentLogger(), { defaultMetrics: false });
  const { port } = await worker.start();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let cpu0 = process.cpuUsage();
  let mem0 = process.memoryUsage();
  let n = 0;
  process.send({ type: 'listening', port });

  function speakLoop(call) {
    let k = 0;
    const speak = () => {
      if (!call.media) return;
      const id = `${call.callId}-${k++}`;
      call.media.speak(id, AGENT);
      call.media.endUtterance(id);
    };
    call.events.on('mediaConnected', speak);
    call.events.on('playoutDone', () => setImmediate(speak));
  }

  process.on('message', async (m) => {
    if (m.type === 'prepare') {
      globalThis.gc?.();
      mem0 = process.memoryUsage();
      n = m.n;
      const calls = m.calls ?? Array.from({ length: m.n }, () => ({ callId: randomUUID(), secret: randomBytes(18).toString('base64url') }));
      for (let i = 0; i < calls.length; i++) {
        const { callId, secret } = calls[i];
        await worker.state.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
        const call = new LiveCall({ callId, from: 'bench', to: 'bench', correlationId: null, startedAt: Date.now(), log: worker.log });
        worker.calls.add(call);
        if (m.playEvery > 0 && i % m.playEvery === 0) speakLoop(call);
      }
      process.send({ type: 'prepared', calls });
    } else if (m.type === 'window-start') {
      worker.registry.getSingleMetric('voice_media_playout_lateness_seconds')?.reset();
      resetProbe();
      loop.reset();
      loop.enable();
      cpu0 = process.cpuUsage();
    } else if (m.type === 'window-end') {
      loop.disable();
      const cpu = process.cpuUsage(cpu0);
      const mem = process.memoryUsage();
      const counters = { bargeIns: 0, gaps: 0, late: 0, framesIn: 0 };
      for (const call of worker.calls.values()) {
        const s = worker.media.session(call.callId);
        if (!s) continue;
        counters.bargeIns += s.counters.bargeIns;
        counters.gaps += s.counters.gaps;
        counters.late += s.counters.lateFrames;
        counters.framesIn += s.counters.framesIn;
      }
      process.send({
        type: 'window',
        ...readProbe(),
        // monitorEventLoopDelay records whole 10 ms intervals: the delay is the excess.
        loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10),
        // Outbound send time minus due time (the worker's own histogram, 1 ms buckets up to 5 ms).
        jitterP99Ms: await histogramPercentileMs(worker.registry, 'voice_media_playout_lateness_seconds', 0.99),
        sockets: worker.media.server.size,
        sessions: worker.media.sessionCount,
        cpuMs: (cpu.user + cpu.system) / 1000,
        sysMs: cpu.system / 1000,
        processCpuMs: [(cpu.user + cpu.system) / 1000],
        rssDelta: mem.rss - mem0.rss,
        heapDelta: mem.heapUsed - mem0.heapUsed,
        n,
        ...counters,
      });
    } else if (m.type === 'exit') {
      await worker.stop('bench done');
      process.exit(0);
    }
  });
}
