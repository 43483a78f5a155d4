// Local TTS cost per sentence: Flite synthesis at 16 kHz (native) and 24 kHz (+ Speex resampling),
// the resampler alone, and a TTS cache hit, as percentiles and a ratio to real time.
// Usage: npx tsx bench/tts.ts [--short]
import { performance } from 'node:perf_hooks';
import { FliteSynthesizer } from '../src/adapters/tts/flite-synthesizer.js';
import { resamplePcm16 } from '../src/adapters/tts/resampler.js';
import { CachedSynthesizer } from '../src/adapters/tts/cached-synthesizer.js';
import { MemoryTtsCache } from '../src/adapters/memory/memory-session-store.js';
import { systemClock } from '../src/adapters/system-clock.js';
import { createLogger } from '../src/logger.js';
import { LINES } from '../src/adapters/responder/local-responder.js';

const short = process.argv.includes('--short');
const rounds = short ? 2 : 10;
const sentences = [...Object.values(LINES), 'One moment, please.', "Sorry, I didn't catch that. Could you say it again?"];

function pct(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return `n=${s.length} p50=${at(50).toFixed(1)} ms p95=${at(95).toFixed(1)} ms max=${s[s.length - 1]!.toFixed(1)} ms`;
}

const flite = new FliteSynthesizer({ voice: 'slt' });
await flite.warmUp();
const signal = new AbortController().signal;
await flite.synthesize('Warm up.', 16000, signal);

for (const rate of [16000, 24000]) {
  const times: number[] = [];
  let audioMs = 0;
  let synthMs = 0;
  for (let r = 0; r < rounds; r++) {
    for (const s of sentences) {
      const t = performance.now();
      const pcm = await flite.synthesize(s, rate, signal);
      const took = performance.now() - t;
      times.push(took);
      synthMs += took;
      audioMs += (pcm.length * 1000) / rate;
    }
  }
  console.log(`flite slt @${rate} Hz per sentence: ${pct(times)}; ${(audioMs / synthMs).toFixed(1)}x real time`);
}

const native = await flite.synthesize(LINES.hours, 16000, signal);
const rs: number[] = [];
for (let i = 0; i < rounds * 20; i++) {
  const t = performance.now();
  await resamplePcm16(native, 16000, 24000);
  rs.push(performance.now() - t);
}
console.log(`speex resample 16k→24k of ${(native.length / 16).toFixed(0)} ms audio: ${pct(rs)}`);

const cached = new CachedSynthesizer({ inner: flite, cache: new MemoryTtsCache({ clock: systemClock }, 3600) }, createLogger({ level: 'silent' }));
await cached.synthesize(LINES.hours, 16000, signal);
const hits: number[] = [];
for (let i = 0; i < rounds * 50; i++) {
  const t = performance.now();
  await cached.synthesize(LINES.hours, 16000, signal);
  hits.push(performance.now() - t);
}
console.log(`tts cache hit (memory cache, sha256 key + copy): ${pct(hits)}; hit ratio ${cached.hitRatio.toFixed(3)}`);

// Event-loop stall while synthesizing: worker thread (default) vs inline on the calling thread.
import { monitorEventLoopDelay } from 'node:perf_hooks';
for (const thread of ['worker', 'inline'] as const) {
  const s = new FliteSynthesizer({ voice: 'slt', thread });
  await s.warmUp();
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  for (let r = 0; r < rounds; r++) for (const text of sentences) await s.synthesize(text, 16000, signal);
  h.disable();
  console.log(`event-loop delay during synthesis (${thread}): p99=${(h.percentile(99) / 1e6).toFixed(1)} ms max=${(h.max / 1e6).toFixed(1)} ms`);
  await s.close();
}
await flite.close();
