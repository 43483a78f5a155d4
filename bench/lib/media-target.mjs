// The worker under test (its own process): a real worker from dist/ with in-memory state. Calls are
// created directly through the worker's own state (LiveCall in the registry + auth state), the way
// the IncomingCall path would; a fraction of calls play agent audio continuously (re-speaking after
// every playoutDone, barge-ins included) so playout lateness is measured under load.
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../dist/config.js';
import { createWorker } from '../../dist/wiring/create-worker.js';
import { silentLogger } from '../../dist/logger.js';
import { LiveCall } from '../../dist/domain/live-call.js';
import { histogramPercentileMs } from './percentile.mjs';

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
  const next = () => {
    if (!call.media) return;
    const id = `${call.callId}-${k++}`;
    call.media.speak(id, AGENT);
    call.media.endUtterance(id);
  };
  call.events.on('mediaConnected', next);
  call.events.on('playoutDone', () => setImmediate(next));
}

process.on('message', async (m) => {
  if (m.type === 'prepare') {
    globalThis.gc?.();
    mem0 = process.memoryUsage();
    n = m.n;
    const calls = [];
    for (let i = 0; i < m.n; i++) {
      const callId = randomUUID();
      const secret = randomBytes(18).toString('base64url');
      await worker.state.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
      const call = new LiveCall({ callId, from: 'bench', to: 'bench', correlationId: null, startedAt: Date.now(), log: worker.log });
      worker.calls.add(call);
      if (m.playEvery > 0 && i % m.playEvery === 0) speakLoop(call);
      calls.push({ callId, secret });
    }
    process.send({ type: 'prepared', calls });
  } else if (m.type === 'window-start') {
    for (const name of ['voice_media_inbound_seconds', 'voice_media_playout_lateness_seconds']) worker.registry.getSingleMetric(name)?.reset();
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
      inboundP99Ms: await histogramPercentileMs(worker.registry, 'voice_media_inbound_seconds', 0.99),
      // monitorEventLoopDelay records whole 10 ms intervals: the delay is the excess.
      loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10),
      jitterP99Ms: await histogramPercentileMs(worker.registry, 'voice_media_playout_lateness_seconds', 0.99),
      sockets: worker.media.server.size,
      sessions: worker.media.sessionCount,
      cpuMs: (cpu.user + cpu.system) / 1000,
      sysMs: cpu.system / 1000,
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
