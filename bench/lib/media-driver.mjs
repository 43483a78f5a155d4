// Load driver (its own process): N ACS-like media streams over loopback. AudioMetadata, then one
// AudioData every 20 ms per call from real speech (looped, each call at its own phase), all paced by
// ONE timer on the monotonic clock. Frames are pre-encoded and pre-masked once. Reports what it sent,
// what it received and how late its own timer ran (a late driver invalidates the step).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { clientTextFrame, frameCounter, openWs } from './ws-wire.mjs';

const pcm = readFileSync(new URL('../../test/fixtures/speech-16k.pcm', import.meta.url));
const FRAMES = [];
for (let i = 0; i + 640 <= pcm.length; i += 640) {
  const data = pcm.subarray(i, i + 640);
  const silent = data.every((b) => b === 0);
  FRAMES.push(clientTextFrame(JSON.stringify({ kind: 'AudioData', audioData: { data: data.toString('base64'), timestamp: '2026-01-01T00:00:00.000Z', silent } })));
}
const METADATA = clientTextFrame(JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: 'bench', encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } }));

async function run({ port, calls, durationMs, headers }) {
  const conns = [];
  const stats = { audioIn: 0, stopIn: 0, otherIn: 0, sent: 0, closed: 0, lateTicks: 0, maxLagMs: 0 };
  const onText = (head) => {
    const s = head.toString('latin1');
    if (s.includes('audioData')) stats.audioIn++;
    else if (s.includes('stopAudio')) stats.stopIn++;
    else stats.otherIn++;
  };
  for (let i = 0; i < calls.length; i += 50) {
    const batch = calls.slice(i, i + 50).map(async (c, k) => {
      const { sock, rest } = await openWs('127.0.0.1', port, `/ws/media?callId=${c.callId}&secret=${c.secret}`, headers);
      const count = frameCounter(onText);
      if (rest.length) count(rest);
      sock.on('data', count);
      sock.on('close', () => stats.closed++);
      sock.on('error', () => undefined);
      sock.write(METADATA);
      conns.push({ sock, phase: (i + k) * 7 });
    });
    await Promise.all(batch);
  }
  process.send({ type: 'connected', n: conns.length });

  const t0 = performance.now();
  let tick = 0;
  await new Promise((resolve) => {
    const step = () => {
      const now = performance.now();
      const due = Math.floor((now - t0) / 20);
      const lag = now - (t0 + tick * 20);
      if (lag > 20) stats.lateTicks++;
      if (lag > stats.maxLagMs) stats.maxLagMs = lag;
      // Catch up at most 3 frames per call per tick, like the worker's playout.
      let burst = 0;
      while (tick <= due && burst < 3) {
        for (const c of conns) c.sock.write(FRAMES[(tick + c.phase) % FRAMES.length]);
        stats.sent += conns.length;
        tick++;
        burst++;
      }
      if (tick <= due) tick = due + 1;
      if (now - t0 >= durationMs) return resolve();
      setTimeout(step, Math.max(0, t0 + tick * 20 - performance.now()));
    };
    step();
  });
  for (const c of conns) c.sock.destroy();
  process.send({ type: 'done', stats });
}

process.on('message', (m) => {
  if (m.type === 'run') run(m).catch((err) => process.send({ type: 'error', message: String(err?.message ?? err) }));
});
