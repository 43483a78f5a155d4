// Barge-in latency: `serve` in a process of its own (private redis-server, local responder and TTS)
// against the simulator in this process, --calls concurrent calls placed over --ramp seconds and held
// on the line until all have run their scenario, twice:
//   1. every call `barge-in`: the caller talks over the agent's first answer; latency = first voiced
//      frame sent (RMS >= -45 dBFS, caller-audio.ts ONSET_DBFS) -> stopAudio received;
//   2. a mix of qa, echo (the agent's audio back at -25 dB), backchannel ("Uh-huh", no words) and
//      barge-in: stopAudio in qa and echo are false barge-ins; a backchannel must pause and resume.
// The worker logs one 'barge-in pause' line per pause (never per frame) with its clock readings in
// epoch ms (performance.timeOrigin + now, one clock on one machine), so each barge-in splits into:
// inbound (onset frame sent -> first frame of the run received by the worker), VAD onset (first frame
// of the run -> the frame that completes it: the onset frames), wake-up (detection -> stopAudio handed
// to the socket) and send (-> stopAudio received by the simulator). The recording is checked too:
// per utterance, the first frame with speech energy and where the WebRTC VAD with a 2-frame onset
// (the previous detector) would have fired. Writes bench/results/barge-in-<UTC timestamp>.json with
// the load average before and after. Build first (npm run build).
//   node bench/barge-in.mjs [--calls=100] [--ramp=5] [--label=NAME] [--out=DIR]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/simulator.js';
import { callerVoice, frameLevels, ONSET_DBFS, SCRIPT } from '../dist/simulator/caller-audio.js';
import { createFvadFactory } from '../dist/adapters/audio/fvad.js';
import { machine, outDir, writeResult } from './lib/results.mjs';
import { freePort, startRedis, serveEnv } from './lib/procs.mjs';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const CALLS = Number(arg('calls', '100'));
const RAMP_S = Number(arg('ramp', '5'));
/** A name for a run of another build (e.g. `--label=previous-detector`): in the file name and the summary. */
const LABEL = arg('label', '');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const pct = (xs, p) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
};
const r2 = (x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);
const dist = (xs) => ({ n: xs.length, p50: r2(pct(xs, 50)), p95: r2(pct(xs, 95)), p99: r2(pct(xs, 99)), max: r2(pct(xs, 100)) });

/** Where each utterance is first audible, and where the previous detector (fvad, 2-frame onset) fired. */
async function recording() {
  const voice = await callerVoice(16000);
  const fvad = await createFvadFactory(3);
  const out = [];
  for (const [i, u] of [...voice.utterances, voice.backchannel].entries()) {
    const levels = frameLevels(u.frames);
    const d = fvad(16000);
    let run = 0;
    let vadAt = -1;
    for (const [k, b64] of u.frames.entries()) {
      const buf = Buffer.from(b64, 'base64');
      run = d.isSpeech(new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2)) ? run + 1 : 0;
      if (run >= 2) {
        vadAt = k;
        break;
      }
    }
    d.close();
    out.push({
      utterance: i < SCRIPT.length ? i : 'backchannel',
      text: u.text,
      frames: u.frames.length,
      firstFramesDbfs: levels.slice(0, 8).map((x) => Math.round(x)),
      onsetFrame: u.onsetFrame,
      previousVadFiresAtFrame: vadAt,
      // The detecting frame leaves this long after the onset frame (the same measure as vadOnset below).
      previousVadOnsetMs: vadAt < 0 ? null : (vadAt - u.onsetFrame) * 20,
    });
  }
  return out;
}

const workerCallId = (c) => new URL(c.answer?.callbackUri ?? 'http://x/').searchParams.get('callId');

/** One phase: runCalls, then each barge-in joined with the worker's pause record of that call. */
async function phase(sim, target, scenario, pauses) {
  const first = sim.calls.length;
  const holdS = RAMP_S + 25;
  const report = await sim.runCalls({ target, calls: CALLS, concurrency: CALLS, rampS: RAMP_S, durationS: holdS, scenario });
  const calls = sim.calls.slice(first);
  const origin = performance.timeOrigin;
  const rows = [];
  for (const c of calls) {
    if (c.scenario !== 'barge-in') continue;
    const turn = c.callerTurns?.find((t) => t.utterance === SCRIPT.length - 1);
    const stop = c.stopAudioTimes[0];
    if (turn?.onsetAt === undefined || stop === undefined) continue;
    const onsetEpoch = origin + c.offeredAt + turn.onsetAt;
    const stopEpoch = origin + c.offeredAt + stop;
    const p = pauses.get(workerCallId(c))?.[0];
    // Calls on the line (offered, not yet ended) when this caller started talking.
    const t = c.offeredAt + turn.onsetAt;
    const active = calls.filter((o) => o.offeredAt <= t && (o.endedAt === undefined || o.offeredAt + o.endedAt > t)).length;
    rows.push({
      totalMs: stopEpoch - onsetEpoch,
      inboundMs: p ? p.firstVoicedAt - onsetEpoch : NaN,
      vadOnsetMs: p ? p.onsetToDetectMs : NaN,
      wakeupMs: p ? p.detectToStopMs : NaN,
      sendMs: p ? stopEpoch - p.stopAt : NaN,
      frames: p ? p.frames : NaN,
      active,
    });
  }
  const byScenario = {};
  for (const c of calls) {
    const s = (byScenario[c.scenario] ??= { calls: 0, failed: 0, stopAudio: 0, callsWithStopAudio: 0 });
    s.calls++;
    if (c.failure) s.failed++;
    s.stopAudio += c.stopAudioTimes.length;
    if (c.stopAudioTimes.length > 0) s.callsWithStopAudio++;
  }
  return {
    scenario,
    calls: report.calls,
    failuresByCause: report.failuresByCause,
    protocolViolations: report.protocolViolations,
    simulatorLatencyMs: { bargeIn: report.latency.bargeIn, backchannelPauseToResume: report.latency.resume, turn: report.latency.turn },
    stopAudioByScenario: byScenario,
    // In qa and echo the caller never talks over the agent: any stopAudio there is a false barge-in.
    falseBargeIns: { qa: byScenario.qa?.stopAudio ?? 0, echo: byScenario.echo?.stopAudio ?? 0 },
    bargeInMs: dist(rows.map((r) => r.totalMs)),
    breakdownMs: {
      inbound: dist(rows.map((r) => r.inboundMs)),
      vadOnset: dist(rows.map((r) => r.vadOnsetMs)),
      wakeup: dist(rows.map((r) => r.wakeupMs)),
      send: dist(rows.map((r) => r.sendMs)),
    },
    onsetFrames: dist(rows.map((r) => r.frames)),
    joined: rows.filter((r) => Number.isFinite(r.inboundMs)).length,
    activeCallsAtOnset: dist(rows.map((r) => r.active)),
    simulatorEventLoopMs: report.simulator.eventLoopDelayMs,
  };
}

const before = machine();
console.log(`barge-in bench: ${CALLS} concurrent calls, ramp ${RAMP_S} s, load ${before.loadAverage.join(' ')}`);
const rec = await recording();
for (const r of rec) console.log(`  recording ${r.utterance}: first frames dBFS ${r.firstFramesDbfs.join(' ')}; onset frame ${r.onsetFrame} (>= ${ONSET_DBFS} dBFS); previous VAD would fire at frame ${r.previousVadFiresAtFrame} (${r.previousVadOnsetMs} ms of onset frames)`);
const redis = await startRedis();
const sim = await startSimulator({});
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const spool = mkdtempSync(join(tmpdir(), 'barge-spool-'));
const worker = spawn(process.execPath, ['dist/cli.js', 'serve', '--processes', '1'], {
  cwd: ROOT,
  env: {
    ...serveEnv(sim, port),
    REDIS_URL: redis.url,
    APP_NAME: `barge-${process.pid}`,
    APP_ENV: 'bench',
    LOG_LEVEL: 'info',
    SPOOL_DIR: spool,
    CALL_SILENCE_TIMEOUT_S: '0',
    MAX_CONCURRENT_CALLS: String(Math.max(2000, CALLS * 2)),
    INCOMING_CALLS_PER_WINDOW: '0',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
/** The worker's pause records by its call id. */
const pauses = new Map();
createInterface({ input: worker.stdout }).on('line', (line) => {
  if (!line.includes('"barge-in pause"')) return;
  try {
    const rec = JSON.parse(line);
    if (rec.callId && rec.bargeIn) pauses.set(rec.callId, [...(pauses.get(rec.callId) ?? []), rec.bargeIn]);
  } catch {
    /* not a JSON log line */
  }
});
const workerExit = once(worker, 'exit');
let summary;
try {
  for (let i = 0; ; i++) {
    if (worker.exitCode !== null) throw new Error(`worker exited ${worker.exitCode} before it was ready`);
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    if (i > 600) throw new Error('worker not ready after 60 s');
    await new Promise((res) => setTimeout(res, 100));
  }
  const target = `${url}/api/incoming-call`;
  const all = await phase(sim, target, 'barge-in', pauses);
  console.log(`  all barge-in: p50 ${all.bargeInMs.p50} p95 ${all.bargeInMs.p95} p99 ${all.bargeInMs.p99} ms (n=${all.bargeInMs.n}, active at onset p50 ${all.activeCallsAtOnset.p50})`);
  const mixed = await phase(sim, target, 'qa,echo,backchannel,barge-in', pauses);
  console.log(`  mixed: barge-in p50 ${mixed.bargeInMs.p50} p95 ${mixed.bargeInMs.p95} ms; false barge-ins qa=${mixed.falseBargeIns.qa} echo=${mixed.falseBargeIns.echo}; backchannel ${JSON.stringify(mixed.stopAudioByScenario.backchannel)}`);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const pausesTotal = Object.fromEntries(
    metrics
      .split('\n')
      .filter((l) => l.startsWith('voice_media_barge_in_pauses_total{'))
      .map((l) => [l.slice(l.indexOf('outcome="') + 9, l.indexOf('"', l.indexOf('outcome="') + 9)), Number(l.slice(l.lastIndexOf(' ') + 1))]),
  );
  const after = machine();
  summary = {
    bench: 'barge-in',
    date: after.at,
    node: process.version,
    command: `node bench/barge-in.mjs --calls=${CALLS} --ramp=${RAMP_S}${LABEL ? ` --label=${LABEL}` : ''}`,
    label: LABEL || null,
    machineBefore: before,
    machineAfter: after,
    target: { processes: 1, concurrentCalls: CALLS, rampS: RAMP_S },
    goal: { bargeInP95Ms: 60, falseBargeIns: 0 },
    pass: all.bargeInMs.p95 !== null && all.bargeInMs.p95 <= 60 && mixed.falseBargeIns.qa === 0 && mixed.falseBargeIns.echo === 0,
    recording: rec,
    allBargeIn: all,
    mixed,
    workerPauses: pausesTotal,
  };
} finally {
  worker.kill('SIGTERM');
  await workerExit;
  await sim.close();
  await redis.stop();
  rmSync(spool, { recursive: true, force: true });
}
const b = summary.allBargeIn.breakdownMs;
console.log(`  breakdown p50/p95 ms: inbound ${b.inbound.p50}/${b.inbound.p95}, VAD onset ${b.vadOnset.p50}/${b.vadOnset.p95}, wake-up ${b.wakeup.p50}/${b.wakeup.p95}, send ${b.send.p50}/${b.send.p95}`);
console.log(`  load ${summary.machineBefore.loadAverage.join(' ')} -> ${summary.machineAfter.loadAverage.join(' ')}`);
const file = writeResult(outDir(), 'barge-in', LABEL ? `-${LABEL}` : '', summary);
console.log(`  wrote ${file}`);
