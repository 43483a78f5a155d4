// Process-wide V8 settings for a streaming server. Allocation-site pretenuring lets V8 allocate
// straight into the old generation the objects of an allocation site whose objects mostly survived a
// young-generation GC. Under media load it picks sites that allocate per audio frame (ws's fragment
// arrays and buffer views, the base64 text of a frame): their objects then die in the old generation
// and are reclaimed only by full mark-compacts. Measured at 750 concurrent calls (bench:media, quick):
// with pretenuring, a mark-compact every ~0.55 s (6-10 ms pauses plus incremental marking), scavenges
// of 3-6 ms, event-loop p99 20-30 ms; without it, 4 mark-compacts in the whole run, scavenges of
// ~1 ms, event-loop p99 4.8 ms and ~12 % less CPU per call. V8 reads the flag at each GC, so setting
// it at start-up (before any load) takes effect without a command-line flag.
import { setFlagsFromString } from 'node:v8';

let applied: boolean | null = null;

/** Turns allocation-site pretenuring off (the default) or leaves V8's default on. Idempotent. */
export function applyV8Tuning(opts: { readonly pretenuring: boolean }): void {
  if (applied === opts.pretenuring) return;
  applied = opts.pretenuring;
  setFlagsFromString(opts.pretenuring ? '--allocation-site-pretenuring' : '--no-allocation-site-pretenuring');
}
