// `voice-worker demo`: parses the options, shows progress, prints the transcripts, the simulator's
// latency table and where the archived transcripts can be read; exit 0 only when every call succeeded.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatReport } from '../simulator/report.js';
import { parseScenarios, SCENARIO_NAMES } from '../simulator/scenarios.js';
import type { Progress } from '../simulator/simulator.js';
import { formatDemoReport } from './demo-report.js';
import { DEFAULT_DEMO_SCENARIOS, runDemo, type DemoResult } from './run-demo.js';

export const DEMO_SUMMARY = 'serve on embedded defaults plus simulate: whole calls on one machine';

/** Above this many calls only the first TRANSCRIPTS_SHOWN transcripts are printed. */
const ALL_TRANSCRIPTS_UP_TO = 5;
const TRANSCRIPTS_SHOWN = 3;

export const DEMO_HELP = `Usage: voice-worker demo [options]

Starts the simulator (a local ACS) and a worker on embedded defaults wired to it: Redis at REDIS_URL
(default redis://127.0.0.1:6379) when one answers within 500 ms, else in-process memory; local
responder and local TTS; a private spool directory; LOG_LEVEL warn unless set. Places scripted calls,
then prints each call's transcript as the worker stored it and the simulator's latency table.
Exits 0 when every call succeeded, 1 otherwise (failures by cause are printed).

  --calls N          calls to place (default: one per comma-separated scenario, 3 by default)
  --concurrency C    calls in progress at once (default min(N, 10))
  --scenario X       what callers do (default "${DEFAULT_DEMO_SCENARIOS}": questions; an interrupted
                     reply; PIN by keypad, then the balance). Comma = mix across calls, plus = steps
                     in one call. Scenarios: ${SCENARIO_NAMES.join(', ')}
  --responder realtime
                     speech-to-speech: each call bridged to a realtime model session (OpenAI
                     Realtime / Voice Live protocol); the demo starts a local realtime server
                     unless --realtime-url is given (default scenarios "qa,barge-in")
  --realtime-url URL the realtime endpoint to use instead (ws://127.0.0.1:… or wss://…; the
                     REALTIME_* variables give provider, model, key)
  --json FILE        also write the report (simulator figures, transcripts) as JSON
  --linger S         keep the worker serving S seconds after the calls, e.g. to read
                     GET /api/calls/<callId>/transcript (default 0)
  --console          keep the worker serving after the calls (until Ctrl-C) and print the operator
                     console's URL (sign-in: API_TOKEN, or any credential from loopback when unset)
  -h, --help         this text

Load example: voice-worker demo --calls 100 --concurrency 100 --scenario qa
`;

function num(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected a whole number in [${min}, ${max}], got '${v}'`);
  return n;
}

function progressLine(p: Progress): string {
  return `calls: started ${p.started}/${p.total}  active ${p.active}  finished ${p.finished}  failed ${p.failed}`;
}

function printResult(r: DemoResult, out: NodeJS.WritableStream): void {
  const { demo, sim, baseUrl } = r.report;
  const transcripts = r.transcripts.length > ALL_TRANSCRIPTS_UP_TO ? TRANSCRIPTS_SHOWN : r.transcripts.length;
  const width = Math.min(120, Math.max(60, process.stdout.columns ?? 100));
  out.write(`${formatDemoReport(demo, { width, transcripts })}\n`);
  out.write(`\n${formatReport(sim)}`);
  const causes = Object.entries(sim.failuresByCause);
  if (r.exitCode !== 0) {
    out.write(`FAILED: ${sim.calls.failed} of ${sim.calls.requested} calls failed (${causes.map(([c, n]) => `${c}: ${n}`).join(', ') || `${sim.calls.requested - sim.calls.started} not placed`})\n`);
  }
  const first = r.transcripts.find((t) => !t.callId.startsWith('sim-'));
  if (first) out.write(`\narchived transcripts: GET ${baseUrl}/api/calls/<callId>/transcript  (e.g. ${baseUrl}/api/calls/${first.callId}/transcript)\n`);
}

/** The console on the loopback name (the browser then accepts its session cookie over plain http). */
export function consoleUrl(baseUrl: string): string {
  const u = new URL('/console', baseUrl);
  if (u.hostname === '0.0.0.0' || u.hostname === '::') u.hostname = '127.0.0.1';
  return u.toString();
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

export async function runDemoCommand(args: string[]): Promise<number> {
  let opts;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: { calls: { type: 'string' }, concurrency: { type: 'string' }, responder: { type: 'string' }, 'realtime-url': { type: 'string' }, scenario: { type: 'string' }, json: { type: 'string' }, linger: { type: 'string' }, console: { type: 'boolean' } },
    });
    if (values.scenario !== undefined) parseScenarios(values.scenario);
    if (values.responder !== undefined && values.responder !== 'realtime') throw new Error(`--responder: only 'realtime' is an option here (got '${values.responder}'; RESPONDER selects the others)`);
    if (values['realtime-url'] !== undefined && values.responder !== 'realtime') throw new Error('--realtime-url: needs --responder realtime');
    opts = {
      calls: num(values.calls, 'calls', 1, 100_000),
      concurrency: num(values.concurrency, 'concurrency', 1, 10_000),
      scenario: values.scenario,
      json: values.json,
      linger: num(values.linger, 'linger', 0, 86_400) ?? 0,
      console: values.console === true,
      responder: values.responder === 'realtime' ? ('realtime' as const) : undefined,
      realtimeUrl: values['realtime-url'],
    };
  } catch (err) {
    process.stderr.write(`voice-worker demo: ${(err as Error).message}\n`);
    return 2;
  }
  const err = process.stderr;
  const tty = err.isTTY === true;
  let last: Progress | undefined;
  let lastFinished = 0;
  const draw = () => last && err.write(`\r  ${progressLine(last)}   `);
  const ticker = tty ? setInterval(draw, 250) : undefined;
  try {
    const result = await runDemo({
      ...(opts.calls !== undefined ? { calls: opts.calls } : {}),
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
      lingerS: opts.linger,
      ...(opts.responder ? { responder: opts.responder } : {}),
      ...(opts.realtimeUrl ? { realtimeUrl: opts.realtimeUrl } : {}),
      ...(opts.console ? { hold: untilInterrupted } : {}),
      onStart: (s) => {
        err.write(`voice-worker demo: worker at ${s.baseUrl} · state ${s.state} · responder ${s.responder} · tts ${s.tts}\n  simulated ACS at ${s.simulatorUrl}\n`);
        if (opts.console) err.write(`  operator console: ${consoleUrl(s.baseUrl)}\n`);
      },
      onProgress: (p) => {
        last = p;
        if (tty) return;
        // Plain lines: when calls finish, at most about ten per run.
        const step = Math.max(1, Math.ceil(p.total / 10));
        if (p.finished > lastFinished && (p.finished % step === 0 || p.finished === p.total)) {
          lastFinished = p.finished;
          err.write(`  ${progressLine(p)}\n`);
        }
      },
      onResult: async (r) => {
        if (ticker) {
          clearInterval(ticker);
          draw();
          err.write('\n');
        }
        err.write('\n');
        printResult(r, process.stdout);
        if (opts.json) await writeFile(opts.json, JSON.stringify(r.report, null, 2) + '\n');
        if (opts.console) err.write(`operator console: ${consoleUrl(r.report.baseUrl)}  (serving until Ctrl-C)\n`);
        else if (opts.linger > 0) err.write(`serving for ${opts.linger} s more, then stopping\n`);
        else err.write('(the worker stops now; --linger S keeps it serving)\n');
      },
    });
    return result.exitCode;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
