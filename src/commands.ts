// The subcommands. Each returns an exit code, or -1 when it keeps running until a signal.
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createWorker } from './wiring/create-worker.js';
import { installProcessHandlers } from './server/lifecycle.js';
import { maybeRunPrimary } from './wiring/processes.js';
import { DEMO_HELP, DEMO_SUMMARY, runDemoCommand } from './demo/demo-command.js';
import { SIMULATE_HELP, SIMULATE_SUMMARY, runSimulate } from './simulator/simulate-command.js';

export interface Command {
  readonly summary: string;
  readonly help: string;
  run(args: string[]): Promise<number>;
}

const serve: Command = {
  summary: 'HTTP + media WebSocket server (incoming calls, callbacks, media, REST, metrics)',
  help: `Usage: voice-worker serve [--processes N]

Starts the worker on PORT (default 8080). Endpoints:
  POST /api/incoming-call   Event Grid (validation handshake, IncomingCall)
  POST /api/callbacks       ACS Call Automation events
  GET  /ws/media            ACS media stream (WebSocket upgrade)
  GET  /healthz             process alive
  GET  /readyz              every configured backend reachable (503 names the failing one)
  GET  /metrics             Prometheus text
The archiver runs inside serve unless ARCHIVER_IN_SERVE=false.
SIGTERM/SIGINT: stop taking calls, finish live work up to SHUTDOWN_DRAIN_TIMEOUT_MS, exit 0.
--processes N: N worker processes share PORT, each a full replica with WORKER_ID <id>-p<i>
  (default: the CPUs of the container in production, 1 in development or with in-memory state).
  SIGTERM drains them all.
All configuration is read from the environment; see .env.example.
Production mode (APP_ENV other than dev/test/demo/bench, or VOICE_MODE=production) refuses every
stand-in: Redis, Cosmos DB, Service Bus, ACS, ACS_RESOURCE_ID, EVENTGRID_WEBHOOK_KEY,
ACS_COGNITIVE_SERVICES_ENDPOINT and an https PUBLIC_BASE_URL are then required (exit 2 lists what is missing).
`,
  async run(args) {
    const { values } = parseArgs({ args, options: { processes: { type: 'string' } }, strict: true });
    const config = loadConfig(process.env, 'serve');
    const log = createLogger({ level: config.logLevel });
    const primary = maybeRunPrimary(values.processes, config, log);
    if (primary) return primary;
    const worker = await createWorker(config, log);
    installProcessHandlers(worker.lifecycle, log, (code) => process.exit(code));
    await worker.start();
    return -1;
  },
};

const archiver: Command = {
  summary: 'Service Bus consumer that writes finished calls to Cosmos DB',
  help: `Usage: voice-worker archiver

Consumes SERVICEBUS_ARCHIVE_QUEUE (peek-lock, ARCHIVE_CONCURRENCY in flight) and upserts each
transcript into the Cosmos DB 'transcripts' container of COSMOS_DATABASE. Serves /healthz, /readyz
and /metrics on PORT. SIGTERM: finish in-flight messages, then exit 0.
`,
  async run(args) {
    parseArgs({ args, options: {}, strict: true });
    const config = loadConfig(process.env, 'archiver');
    const log = createLogger({ level: config.logLevel });
    const worker = await createWorker(config, log, { role: 'archiver' });
    installProcessHandlers(worker.lifecycle, log, (code) => process.exit(code));
    await worker.start();
    return -1;
  },
};

const simulate: Command = {
  summary: SIMULATE_SUMMARY,
  help: SIMULATE_HELP,
  run: runSimulate,
};

const demo: Command = {
  summary: DEMO_SUMMARY,
  help: DEMO_HELP,
  run: runDemoCommand,
};

export const COMMANDS = { serve, archiver, simulate, demo } as const satisfies Record<string, Command>;
export type CommandName = keyof typeof COMMANDS;
