// Media hot path without the network: the same masked client frames the load driver sends are pushed
// into in-process duplex streams, through ws's receiver, into (a) the worker's media socket handler and
// (b) the bare baseline (JSON.parse + base64 decode). Same frames, same harness, same clock for both.
// Modes: `fast` pushes rounds back to back (inbound CPU per frame); `realtime` paces one frame per call
// every 20 ms with one call in PLAY_EVERY playing agent audio (inbound + playout CPU per call).
//   npm run build && node --expose-gc bench/media-micro.mjs [--mode=fast|realtime] [--calls=500] [--rounds=400] [--seconds=8]
//     [--play-every=4] [--targets=baseline,worker] [--ring-seconds=N]
import { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import { loadConfig } from '../dist/config.js';
import { createWorker } from '../dist/wiring/create-worker.js';
import { silentLogger } from '../dist/logger.js';
import { LiveCall } from '../dist/domain/live-call.js';
import { clientTextFrame } from './lib/ws-wire.mjs';

const arg = (name, def) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const MODE = arg('mode', 'fast');
const CALLS = Number(arg('calls', '500'));
const ROUNDS = Number(arg('rounds', '400'));
const SECONDS = Number(arg('seconds', '8'));
const PLAY_EVERY = Number(arg('play-every', '4'));
const TARGETS = arg('targets', 'baseline,worker').split(',');
// MEDIA_RING_SECONDS for the worker (default: the worker's own default).
const RING_SECONDS = arg('ring-seconds', '');

const pcm = readFileSync(new URL('../test/fixtures/speech-16k.pcm', import.meta.url));
const AGENT = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
const FRAMES = [];
for (let i = 0; i + 640 <= pcm.length; i += 640) {
  const data = pcm.subarray(i, i + 640);
  const silent = data.every((b) => b === 0);
  FRAMES.push(clientTextFrame(JSON.stringify({ kind: 'AudioData', audioData: { data: data.toString('base64'), timestamp: '2026-01-01T00:00:00.000Z', silent } })));
}
const METADATA = clientTextFrame(JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: 'bench', encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } }));

// ws unmasks received frames in place: every push gets its own copy, as every socket read does.
const copy = (b) => Buffer.from(b);

/** A socket stand-in: what is pushed is read by ws; what ws writes is counted and dropped. */
class FakeSocket extends Duplex {
  writes = 0;
  bufferSize = 0;
  _read() {}
  _write(_c, _e, cb) {
    this.writes++;
    cb();
  }
  _writev(_c, cb) {
    this.writes++;
    cb();
  }
  setTimeout() {
    return this;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
}

const upgradeReq = (url) => ({
  method: 'GET',
  url,
  headers: { host: '127.0.0.1', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') },
});

async function baselineTarget(n) {
  const scratch = Buffer.allocUnsafeSlow(64 * 1024);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 1024 });
  const socks = [];
  for (let i = 0; i < n; i++) {
    const sock = new FakeSocket();
    await new Promise((resolve) =>
      wss.handleUpgrade(upgradeReq('/'), sock, Buffer.alloc(0), (ws) => {
        ws.on('error', () => undefined);
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString());
          if (msg.kind === 'AudioData') scratch.write(msg.audioData.data, 0, 'base64');
        });
        resolve();
      }),
    );
    socks.push(sock);
  }
  return { socks, stop: async () => undefined };
}

async function workerTarget(n, playEvery) {
  const config = loadConfig({ APP_NAME: 'bench-micro', APP_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', STATE_BACKEND: 'memory', ACS_AUTH_DISABLED_DEV_ONLY: 'true', TTS: 'acs', ...(RING_SECONDS ? { MEDIA_RING_SECONDS: RING_SECONDS } : {}) });
  const worker = await createWorker(config, silentLogger(), { defaultMetrics: false });
  await worker.start();
  const socks = [];
  for (let i = 0; i < n; i++) {
    const callId = randomUUID();
    const secret = randomBytes(18).toString('base64url');
    await worker.state.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
    const call = new LiveCall({ callId, from: 'bench', to: 'bench', correlationId: null, startedAt: Date.now(), log: worker.log });
    worker.calls.add(call);
    if (playEvery > 0 && i % playEvery === 0) {
      let k = 0;
      const next = () => {
        if (!call.media) return;
        const id = `${callId}-${k++}`;
        call.media.speak(id, AGENT);
        call.media.endUtterance(id);
      };
      call.events.on('mediaConnected', next);
      call.events.on('playoutDone', () => setImmediate(next));
    }
    const sock = new FakeSocket();
    worker.media.server.handle(upgradeReq(`/ws/media?callId=${callId}&secret=${secret}`), sock, Buffer.alloc(0));
    socks.push(sock);
  }
  while (worker.media.server.size < n) await new Promise((r) => setTimeout(r, 5));
  return { socks, stop: () => worker.stop('bench done') };
}

function cpuUs(c) {
  return c.user + c.system;
}

async function measure(target) {
  const t = target === 'worker' ? await workerTarget(CALLS, MODE === 'realtime' ? PLAY_EVERY : 0) : await baselineTarget(CALLS);
  for (const s of t.socks) s.push(copy(METADATA));
  await new Promise((r) => setTimeout(r, 50));
  const phases = t.socks.map((_, i) => i * 7);
  let frames = 0;
  let result;
  if (MODE === 'fast') {
    const round = (r) => {
      for (let i = 0; i < t.socks.length; i++) t.socks[i].push(copy(FRAMES[(r + phases[i]) % FRAMES.length]));
      frames += t.socks.length;
    };
    for (let r = 0; r < 100; r++) round(r);
    globalThis.gc?.();
    frames = 0;
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      round(r);
      if ((r & 15) === 15) await new Promise((res) => setImmediate(res));
    }
    const wall = performance.now() - w0;
    const cpu = cpuUs(process.cpuUsage(c0));
    result = { target, mode: MODE, calls: CALLS, frames, usPerFrame: +(cpu / frames).toFixed(2), wallUsPerFrame: +((wall * 1000) / frames).toFixed(2) };
  } else {
    let tick = 0;
    const t0 = performance.now();
    const warm = 2000;
    let c0 = null;
    let f0 = 0;
    let w0 = 0;
    await new Promise((resolve) => {
      const step = () => {
        const now = performance.now();
        if (c0 === null && now - t0 >= warm) {
          globalThis.gc?.();
          c0 = process.cpuUsage();
          f0 = process.resourceUsage().minorPageFault;
          w0 = performance.now();
          frames = 0;
        }
        const due = Math.floor((now - t0) / 20);
        while (tick <= due) {
          for (let i = 0; i < t.socks.length; i++) t.socks[i].push(copy(FRAMES[(tick + phases[i]) % FRAMES.length]));
          frames += t.socks.length;
          tick++;
        }
        if (now - t0 >= warm + SECONDS * 1000) return resolve();
        setTimeout(step, Math.max(0, t0 + tick * 20 - performance.now()));
      };
      step();
    });
    const wall = performance.now() - w0;
    const cpu = cpuUs(process.cpuUsage(c0));
    const out = t.socks.reduce((a, s) => a + s.writes, 0);
    result = { target, mode: MODE, calls: CALLS, frames, cpuPct: +((cpu / 1000 / wall) * 100).toFixed(1), usPerFrame: +(cpu / frames).toFixed(2), faultsPerFrame: +((process.resourceUsage().minorPageFault - f0) / frames).toFixed(3), socketWrites: out };
  }
  await t.stop();
  return result;
}

for (const target of TARGETS) console.log(JSON.stringify(await measure(target)));
process.exit(0);
