// `voice-worker simulate`: starts the local ACS, prints the environment the worker needs, places
// calls at the worker, shows live progress on a TTY, prints the final table (and --json), and exits
// non-zero when any call failed.
import { applyV8Tuning } from '../v8-tuning.js';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatReport } from './report.js';
import { SCENARIO_NAMES } from './scenarios.js';
import { startSimulator, type Progress } from './simulator.js';
import { SubscriptionValidationError } from './event-grid.js';

export const SIMULATE_SUMMARY = 'a local ACS: places simulated calls at a running worker and reports latency';

export const SIMULATE_HELP = `Usage: voice-worker simulate [options]

Starts a local Azure Communication Services stand-in (Call Automation REST with HMAC auth, JWKS,
Event Grid, callbacks, media streaming), prints the environment the worker must run with, then places
calls at the worker and reports latency. Exits 0 only when every call succeeded.

Calls
  --target URL            the worker's Event Grid endpoint (default http://127.0.0.1:8080/api/incoming-call;
                          a URL without a path gets /api/incoming-call)
  --calls N               calls to place in total (default 10)
  --concurrency C         calls in progress at once (default 10)
  --ramp S                seconds over which the first C calls start (default 0: all at once)
  --duration D            seconds each call lasts at least; after its scenario the caller stays on
                          the line, silent, then hangs up (default 0)
  --scenario X            what callers do (default qa). Comma = mix across calls (round robin),
                          plus = steps in one call, e.g. "qa,barge-in" or "qa+dtmf".
                          Scenarios: ${SCENARIO_NAMES.join(', ')}
  --format F              caller audio when the worker does not choose: pcm16KMono (default) | pcm24KMono
                          (the worker's mediaStreamingOptions.audioFormat wins)
  --channels M            mixed (default) | unmixed (AudioData carries participantRawID)
  --duplicate-rate F      0..1: share of IncomingCall events and callbacks delivered twice (same id)
                          to prove at-most-once answering and idempotent callbacks (default 0)
  --fast-retry            Event Grid redelivers after 0.1 s / 0.3 s / 0.6 s / 3 s instead of its documented
                          10 s / 30 s / 1 min / 5 min (tests)
  --wait S                seconds to wait before the first call, e.g. to start the worker with the
                          printed environment (default 0)

Simulated ACS resource (fix these to configure the worker ahead of time)
  --host H                address to listen on (default 127.0.0.1)
  --port P                port of the Call Automation REST + JWKS endpoint (default: any free port)
  --access-key K          base64 access key of the connection string (default: random)
  --resource-id R         ACS resource id, the audience of the JWTs (default: random uuid)
  --issuer I              JWT issuer (default https://acscallautomation.communication.azure.com)
  --webhook-key K         Event Grid webhook key sent as ?key= on every delivery, the worker's
                          EVENTGRID_WEBHOOK_KEY (default: random)

Output
  --json FILE             also write the report as JSON (shape in README.md, "Simulator")
  --quiet                 no environment banner and no progress line
  -h, --help              this text

The worker must run with the printed ACS_CONNECTION_STRING, ACS_JWKS_URL, ACS_JWT_ISSUER,
ACS_RESOURCE_ID, ACS_COGNITIVE_SERVICES_ENDPOINT (without it the worker asks for no transcription and
callers are not heard) and EVENTGRID_WEBHOOK_KEY. The report gives answer latency, time to first agent audio, turn latency (caller's
final transcript sent -> first agent frame), barge-in latency (caller speech onset -> stopAudio),
outbound frame interval and jitter (p50/p95/p99), frames, failures by cause and the simulator's own
event-loop delay.
`;

export const SIMULATE_OPTIONS = {
  target: { type: 'string' },
  calls: { type: 'string' },
  concurrency: { type: 'string' },
  ramp: { type: 'string' },
  duration: { type: 'string' },
  scenario: { type: 'string' },
  format: { type: 'string' },
  channels: { type: 'string' },
  'duplicate-rate': { type: 'string' },
  wait: { type: 'string' },
  'fast-retry': { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  'access-key': { type: 'string' },
  'resource-id': { type: 'string' },
  issuer: { type: 'string' },
  'webhook-key': { type: 'string' },
  json: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

function num(v: string | undefined, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: expected a number in [${min}, ${max}], got '${v}'`);
  return n;
}

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], def: T): T {
  if (v === undefined) return def;
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`--${name}: expected one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export function targetUrl(raw: string): string {
  const u = new URL(raw);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/incoming-call';
  return u.toString();
}

export async function runSimulate(args: string[]): Promise<number> {
  let values;
  let opts;
  try {
    values = parseArgs({ args, strict: true, options: SIMULATE_OPTIONS }).values;
    const calls = num(values.calls, 'calls', 10, 1, 1_000_000);
    opts = {
      target: targetUrl(values.target ?? 'http://127.0.0.1:8080/api/incoming-call'),
      calls,
      concurrency: num(values.concurrency, 'concurrency', Math.min(10, calls), 1, 100_000),
      rampS: num(values.ramp, 'ramp', 0),
      durationS: num(values.duration, 'duration', 0),
      scenario: values.scenario ?? 'qa',
      audioFormat: oneOf(values.format, 'format', ['pcm16KMono', 'pcm24KMono'] as const, 'pcm16KMono'),
      channels: oneOf(values.channels, 'channels', ['mixed', 'unmixed'] as const, 'mixed'),
      duplicateRate: num(values['duplicate-rate'], 'duplicate-rate', 0, 0, 1),
      fastRetry: values['fast-retry'] === true,
    };
    if (values['access-key'] !== undefined && Buffer.from(values['access-key'], 'base64').length < 16) throw new Error('--access-key: expected base64 of at least 16 bytes');
  } catch (err) {
    process.stderr.write(`voice-worker simulate: ${(err as Error).message}\n`);
    return 2;
  }
  const wait = num(values.wait, 'wait', 0);
  const port = num(values.port, 'port', 0, 0, 65535);
  let warnings = 0;
  const log = {
    info: (msg: string) => void (values.quiet || process.stderr.write(`${msg}\n`)),
    // A misconfigured worker (wrong access key) would warn once per request: show the first few.
    warn: (msg: string) => void (++warnings <= 5 && process.stderr.write(`warning: ${msg}${warnings === 5 ? ' (further warnings suppressed)' : ''}\n`)),
  };
  // The simulator streams audio like the worker receives it: the same V8 setting (see v8-tuning.ts).
  applyV8Tuning({ pretenuring: false });
  const sim = await startSimulator({ host: values.host, port, accessKey: values['access-key'], resourceId: values['resource-id'], issuer: values.issuer, webhookKey: values['webhook-key'], log });
  const tty = process.stderr.isTTY && !values.quiet;
  try {
    if (!values.quiet) {
      const env = Object.entries(sim.workerEnv()).map(([k, v]) => `  ${k}=${v}`);
      process.stderr.write(`simulated ACS at ${sim.url}; run the worker with:\n${env.join('\n')}\n\n`);
    }
    if (wait > 0) await new Promise((r) => setTimeout(r, wait * 1000));
    let last: Progress | undefined;
    const draw = () => last && process.stderr.write(`\r  started ${last.started}/${last.total}  active ${last.active}  finished ${last.finished}  failed ${last.failed}   `);
    const ticker = tty ? setInterval(draw, 250) : undefined;
    let report;
    try {
      report = await sim.runCalls({ ...opts, onProgress: (p) => (last = p) });
    } finally {
      if (ticker) {
        clearInterval(ticker);
        draw();
        process.stderr.write('\n');
      }
    }
    process.stdout.write(formatReport(report));
    if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
    return report.calls.failed > 0 || report.calls.started < report.calls.requested ? 1 : 0;
  } catch (err) {
    if (err instanceof SubscriptionValidationError) {
      process.stderr.write(`voice-worker simulate: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await sim.close();
  }
}
