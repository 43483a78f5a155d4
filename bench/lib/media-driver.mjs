// Load driver (its own process): N ACS-like media streams at the worker through the simulator's own
// media streaming code (runMediaLoad in src/simulator/media-load.ts): AudioMetadata, then one AudioData
// every 20 ms per call from real speech (looped, each call at its own phase), paced by the simulator's
// frame clock, frames pre-built and stamped with their tick's time. Reports what it sent, what it
// received and how late its own clock ran (a late driver invalidates the step). Build first.
// Clock phases from LOAD_PHASES (bench/media.mjs sets it: 4 slots of 5 ms by default, as the simulator
// does; 1 = every stream's frame in one burst per 20 ms, ~13 % less driver CPU per frame).
//   IPC: {type:'run', port, calls:[{callId, secret}], durationMs, headers?} → {type:'connected', n} → {type:'done', stats}
import { readFileSync } from 'node:fs';
import { runMediaLoad } from '../../dist/simulator/media-load.js';
import { applyV8Tuning } from '../../dist/v8-tuning.js';

// As `voice-worker simulate` runs (dist/v8-tuning.js).
applyV8Tuning({ pretenuring: false });

const pcm = readFileSync(new URL('../../test/fixtures/speech-16k.pcm', import.meta.url));

async function run({ port, calls, durationMs, headers }) {
  const q = encodeURIComponent;
  const s = await runMediaLoad({
    urls: calls.map((c) => `ws://127.0.0.1:${port}/ws/media?callId=${q(c.callId)}&secret=${q(c.secret)}`),
    headers,
    durationMs,
    pcm,
    phases: Number(process.env.LOAD_PHASES ?? 1),
    onConnected: (n) => process.send({ type: 'connected', n }),
  });
  // lateTicks: 20 ms periods that ran more than a frame late; skipped periods are late too.
  const stats = { audioIn: s.audioIn, stopIn: s.stopIn, otherIn: s.otherIn, sent: s.sent, closed: s.closed, lateTicks: s.lateTicks, maxLagMs: s.maxLagMs, dropped: s.dropped, skippedTicks: s.skippedTicks };
  process.send({ type: 'done', stats });
}

process.on('message', (m) => {
  if (m.type === 'run') run(m).catch((err) => process.send({ type: 'error', message: String(err?.message ?? err) }));
});
