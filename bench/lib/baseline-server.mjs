// Baseline (its own process): a bare ws server on loopback that only JSON-parses each message and
// base64-decodes its audio into a scratch buffer. What a media server costs before doing anything.
// Inbound arrival gaps and handler time are measured by target-probe.mjs, as in the worker. It plays
// no audio, so it has no playout jitter: that criterion is the worker's alone (reported null here).
import { resetProbe, readProbe } from './target-probe.mjs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { applyV8Tuning } from '../../dist/v8-tuning.js';

// The worker's V8 setting (dist/v8-tuning.js), so the two targets differ in code, not in VM flags.
applyV8Tuning({ pretenuring: false });

const scratch = Buffer.allocUnsafeSlow(64 * 1024);
let frames = 0;
const loop = monitorEventLoopDelay({ resolution: 10 });
const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 256 * 1024 });
wss.on('connection', (ws) => {
  ws.on('error', () => undefined);
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.kind === 'AudioData') {
      scratch.write(msg.audioData.data, 0, 'base64');
      frames++;
    }
  });
});
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));

let cpu0 = process.cpuUsage();
let mem0 = process.memoryUsage();
process.on('message', (m) => {
  if (m.type === 'prepare') {
    globalThis.gc?.();
    mem0 = process.memoryUsage();
    process.send({ type: 'prepared', calls: Array.from({ length: m.n }, (_, i) => ({ callId: `b${i}`, secret: 'x' })) });
  } else if (m.type === 'window-start') {
    frames = 0;
    resetProbe();
    loop.reset();
    loop.enable();
    cpu0 = process.cpuUsage();
  } else if (m.type === 'window-end') {
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    const mem = process.memoryUsage();
    process.send({
      type: 'window',
      ...readProbe(),
      // monitorEventLoopDelay records whole 10 ms intervals: the delay is the excess.
      loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10),
      jitterP99Ms: null,
      framesIn: frames,
      cpuMs: (cpu.user + cpu.system) / 1000,
      sysMs: cpu.system / 1000,
      processCpuMs: [(cpu.user + cpu.system) / 1000],
      rssDelta: mem.rss - mem0.rss,
      heapDelta: mem.heapUsed - mem0.heapUsed,
    });
  } else if (m.type === 'exit') process.exit(0);
});
