// The demo as a function: the simulator (a local ACS), a worker on embedded defaults wired to it,
// a few scripted calls, then each call's transcript from the conversation store and the latency
// figures. Everything it starts it stops; the process needs nothing else to exit.
import { freePort } from './free-port.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { createWorker, type Worker } from '../wiring/create-worker.js';
import type { TurnTiming } from '../domain/turn/turn-ports.js';
import type { SimCall } from '../simulator/sim-call.js';
import { callerVoice } from '../simulator/caller-audio.js';
import { parseScenarios } from '../simulator/scenarios.js';
import { startSimulator, type Progress, type Simulator } from '../simulator/simulator.js';
import type { SimReport } from '../simulator/report.js';
import { callReportFrom, type DemoCallReport, type DemoReport } from './demo-report.js';
import { probeRedis } from './redis-probe.js';
import { startRealtimeServer, type LocalRealtimeServer } from '../simulator/realtime-server.js';

/** qa; barge-in; PIN by DTMF, then the balance, opening hours and goodbye. */
export const DEFAULT_DEMO_SCENARIOS = 'qa,barge-in,dtmf+qa';
/** RESPONDER=realtime: questions and an interrupted reply (keypad input is the cascaded path's). */
export const DEFAULT_REALTIME_SCENARIOS = 'qa,barge-in';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const REDIS_PROBE_MS = 500;

export interface DemoOptions {
  readonly calls?: number;
  readonly concurrency?: number;
  /** Simulator scenario spec ("qa", "qa,barge-in", "dtmf+qa"); default DEFAULT_DEMO_SCENARIOS. */
  readonly scenario?: string;
  /** Worker environment (default process.env); the demo overrides what wires it to the simulator. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Root logger of the worker (default: pino on stderr at LOG_LEVEL, warn unless set). */
  readonly log?: Logger;
  /** Tells which state backend was chosen and where the worker listens, before the first call. */
  readonly onStart?: (info: DemoStart) => void;
  readonly onProgress?: (p: Progress) => void;
  /** Runs with the result while the worker still serves (print it), before lingering and stopping. */
  readonly onResult?: (r: DemoResult) => void | Promise<void>;
  /** Seconds the worker keeps serving (transcript REST) after the calls, before it stops. */
  readonly lingerS?: number;
  /** Keeps the worker serving until this resolves (`--console`: until Ctrl-C), instead of lingerS. */
  readonly hold?: () => Promise<void>;
  /** 'realtime': speech-to-speech through a realtime model session (the local realtime server unless realtimeUrl). */
  readonly responder?: 'realtime';
  /** The realtime endpoint (default: a local realtime server the demo starts and stops). */
  readonly realtimeUrl?: string;
}

export interface DemoStart {
  readonly baseUrl: string;
  /** "redis (redis://…)" or "memory (no Redis answered at …)". */
  readonly state: string;
  readonly simulatorUrl: string;
  readonly spoolDir: string;
  readonly responder: string;
  readonly tts: string;
}

export interface DemoRunReport {
  readonly baseUrl: string;
  readonly sim: SimReport;
  readonly demo: DemoReport;
}

export interface DemoResult {
  /** 0 when every requested call was placed and succeeded, 1 otherwise. */
  readonly exitCode: number;
  readonly report: DemoRunReport;
  /** One per placed call, in order: the conversation as the worker stored it. */
  readonly transcripts: readonly DemoCallReport[];
}

/** The worker's call id for a simulated call (it is in the callback URL the worker gave ACS). */
export function workerCallId(call: SimCall): string | null {
  const uri = call.answer?.callbackUri;
  if (!uri) return null;
  try {
    return new URL(uri).searchParams.get('callId');
  } catch {
    return null;
  }
}

/** Redis when one answers (or is configured explicitly), else in-process memory. */
async function chooseState(env: Record<string, string | undefined>): Promise<string> {
  if (env.STATE_BACKEND === 'memory') {
    delete env.REDIS_URL;
    delete env.REDIS_CLUSTER_NODES;
    return 'memory (STATE_BACKEND=memory)';
  }
  if (env.REDIS_CLUSTER_NODES) return `redis cluster (${env.REDIS_CLUSTER_NODES})`;
  const url = env.REDIS_URL || DEFAULT_REDIS_URL;
  const shown = redactUrl(url);
  if (env.STATE_BACKEND === 'redis' || (await probeRedis(url, REDIS_PROBE_MS))) {
    env.STATE_BACKEND = 'redis';
    env.REDIS_URL = url;
    return `redis (${shown})`;
  }
  env.STATE_BACKEND = 'memory';
  delete env.REDIS_URL;
  return `memory (no Redis answered at ${shown})`;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const scenario = opts.scenario ?? (opts.responder === 'realtime' ? DEFAULT_REALTIME_SCENARIOS : DEFAULT_DEMO_SCENARIOS);
  const calls = Math.max(1, Math.floor(opts.calls ?? parseScenarios(scenario).length));
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? Math.min(calls, 10)));
  const env: Record<string, string | undefined> = { ...(opts.env ?? process.env) };
  const state = await chooseState(env);
  const spoolDir = await mkdtemp(join(tmpdir(), 'voice-worker-demo-'));
  let sim: Simulator | undefined;
  let worker: Worker | undefined;
  let realtime: LocalRealtimeServer | undefined;
  try {
    sim = await startSimulator();
    if (opts.responder === 'realtime') {
      if (!opts.realtimeUrl) realtime = await startRealtimeServer();
      env.RESPONDER = 'realtime';
      env.REALTIME_URL = opts.realtimeUrl ?? (realtime as LocalRealtimeServer).url;
    }
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    delete env.ACS_ENDPOINT;
    Object.assign(env, sim.workerEnv(), { PORT: String(port), HOST: '127.0.0.1', PUBLIC_BASE_URL: baseUrl, SPOOL_DIR: spoolDir });
    env.LOG_LEVEL ||= 'warn';
    env.APP_ENV ||= 'demo';
    env.SHUTDOWN_DRAIN_TIMEOUT_MS ||= '5000';
    // The simulator shares this process's event loop (one 20 ms clock for every simulated call), so
    // a Redis reply can wait behind it longer than the production default allows.
    env.REDIS_COMMAND_TIMEOUT_MS ||= '2000';
    const config = loadConfig(env);
    // The simulated caller's voice takes seconds of CPU (one Flite child process per phrase): finish
    // it before the worker starts, so the worker's first Redis commands do not compete with it.
    await callerVoice(config.media.sampleRate);
    const log = opts.log ?? createLogger({ level: config.logLevel }, process.stderr);
    worker = await createWorker(config, log, { defaultMetrics: false });
    const timings = new Map<string, TurnTiming[]>();
    worker.conversation.onPipeline((call, pipeline) => timings.set(call.callId, pipeline.timings));
    await worker.start();
    const responderName = config.responder.kind === 'realtime' ? `realtime (${realtime ? 'local realtime server at ' : ''}${new URL(config.realtime.url ?? 'wss://api.openai.com').origin})` : worker.conversation.responder.name;
    opts.onStart?.({ baseUrl, state, simulatorUrl: sim.url, spoolDir, responder: responderName, tts: config.tts.kind });

    const startedAt = Date.now();
    const sr = await sim.runCalls({
      target: `${baseUrl}/api/incoming-call`,
      calls,
      concurrency,
      scenario,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    const placed = sim.calls.slice(-sr.calls.started);
    const transcripts: DemoCallReport[] = [];
    for (const c of placed) {
      const callId = workerCallId(c);
      const history = callId ? (await worker.state.conversations.getState(callId)).history : [];
      transcripts.push(
        callReportFrom({
          callId: callId ?? `sim-${c.index}`,
          label: c.scenario,
          outcome: c.failure ?? (c.disconnectedBy === 'transfer' ? 'transferred' : c.disconnectedBy ? `hung up by ${c.disconnectedBy === 'worker' ? 'agent' : 'caller'}` : 'completed'),
          ok: c.failure === undefined,
          durationMs: (c.endedAt ?? c.offeredAt) - c.offeredAt,
          history,
          timings: (callId && timings.get(callId)) || [],
        }),
      );
    }
    const synth = worker.conversation.synthesizer;
    const demo: DemoReport = {
      startedAt,
      durationMs: Date.now() - startedAt,
      responder: responderName,
      tts: config.tts.kind,
      state,
      calls: transcripts,
      ...(synth ? { ttsCache: { hits: synth.hits, misses: synth.misses } } : {}),
    };
    const ok = sr.calls.failed === 0 && sr.calls.started === sr.calls.requested;
    const result: DemoResult = { exitCode: ok ? 0 : 1, report: { baseUrl, sim: sr, demo }, transcripts };
    await opts.onResult?.(result);
    if (opts.hold) await opts.hold();
    else if ((opts.lingerS ?? 0) > 0) await new Promise((r) => setTimeout(r, (opts.lingerS ?? 0) * 1000));
    return result;
  } finally {
    await sim?.close();
    await worker?.stop('demo end');
    await realtime?.close();
    await rm(spoolDir, { recursive: true, force: true });
  }
}
