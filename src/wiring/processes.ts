// `serve --processes N`: N worker processes on one port (node:cluster; the primary accepts and hands
// connections out round-robin), each a full replica with its own WORKER_ID — its own leases, its own
// pub/sub forwarding, its own admission counters — exactly as N replicas of one process would be.
// The primary runs no worker: it forks, restarts a worker that dies (bounded), and on SIGTERM/SIGINT
// drains every worker and exits when all have stopped.
// https://nodejs.org/api/cluster.html ("How it works": the primary listens and distributes
// connections round-robin by default on Linux; a worker exits when its IPC channel to the primary
// closes, so a killed primary takes no worker with it alive).
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../domain/errors.js';
import type { Logger } from '../logger.js';

/** What the primary needs to know; built from the validated config by the serve command. */
export interface ProcessesConfig {
  readonly processes: number;
  /** WORKER_ID as configured (null: generated from the primary's pid). */
  readonly baseWorkerId: string | null;
  readonly spoolDir: string;
  /** SHUTDOWN_DRAIN_TIMEOUT_MS: a worker that has not exited this long (+ a margin) after SIGTERM is killed. */
  readonly drainTimeoutMs: number;
  /** Restarts allowed within restartWindowMs before the primary gives up and exits 1 (the platform restarts the container). */
  readonly maxRestarts: number;
  readonly restartWindowMs: number;
}

export const DEFAULT_MAX_RESTARTS = 5;
export const DEFAULT_RESTART_WINDOW_MS = 60_000;
/** Time beyond the drain deadline a worker gets to close its clients before it is killed. */
const STOP_MARGIN_MS = 15_000;

/**
 * The CPUs this container may use: os.availableParallelism() capped by the cgroup CPU quota
 * (cgroup v2 `cpu.max` "quota period", or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded up
 * so a 0.5-vCPU replica runs one process. Container Apps sets the quota from the replica's vCPU.
 */
export function containerCpus(read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number {
  const cores = availableParallelism();
  const quota = cgroupQuota(read);
  return Math.max(1, quota === null ? cores : Math.min(cores, Math.ceil(quota)));
}

function cgroupQuota(read: (path: string) => string): number | null {
  try {
    const [q, p] = read('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (q === 'max') return null;
    const v = Number(q) / Number(p);
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    // not cgroup v2; try v1
  }
  try {
    const q = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim());
    const p = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim());
    return q > 0 && p > 0 ? q / p : null;
  } catch {
    return null;
  }
}

/**
 * How many processes `serve` runs. `value` is the --processes flag; without it, production runs one
 * process per CPU of the container, development (tests, local runs, the demo) one process.
 * In-memory state lives in one process, so a memory backend runs one process and refuses more.
 */
export function resolveProcesses(
  value: string | undefined,
  stateBackend: 'redis' | 'memory',
  mode: 'production' | 'development',
  cpus: () => number = containerCpus,
): number {
  if (value === undefined) return stateBackend === 'memory' || mode === 'development' ? 1 : cpus();
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new ConfigError([`--processes: expected a whole number from 1 to 999, got '${value}'`]);
  const n = Number(value);
  if (n > 1 && stateBackend === 'memory') {
    throw new ConfigError([`--processes: ${n} processes need shared state (REDIS_URL or REDIS_CLUSTER_NODES); STATE_BACKEND is memory, which lives in one process`]);
  }
  return n;
}

/** WORKER_ID of process `index` (1-based), incarnation `generation` (0 for the first start). */
export function processWorkerId(base: string, index: number, generation: number): string {
  // A restarted process is a new replica: the dead one's leases must expire, not be adopted.
  const suffix = generation === 0 ? `-p${index}` : `-p${index}r${generation}`;
  return `${base.slice(0, 64 - suffix.length)}${suffix}`;
}

/** Spool of process `index`: process 1 keeps SPOOL_DIR itself (it drains what a one-process run left). */
export function processSpoolDir(spoolDir: string, index: number): string {
  return index === 1 ? spoolDir : join(spoolDir, `p${index}`);
}

/** True in a process the primary forked (it runs the ordinary one-process serve). */
export function isServeWorkerProcess(): boolean {
  return cluster.isWorker;
}

/**
 * Runs the primary: forks cfg.processes workers (the same script and arguments; cluster workers take
 * the one-process path) and resolves with the exit code once every worker has stopped.
 */
export function runPrimary(cfg: ProcessesConfig, log: Logger): Promise<number> {
  const base = cfg.baseWorkerId ?? `w-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const slots = new Map<number, { worker: ClusterWorker; generation: number }>();
  const restarts: number[] = [];
  let stopping = false;
  let failed = false;
  let killTimer: NodeJS.Timeout | undefined;
  const pending = new Set<NodeJS.Timeout>();
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const fork = (index: number, generation: number) => {
    const workerId = processWorkerId(base, index, generation);
    const worker = cluster.fork({ WORKER_ID: workerId, SPOOL_DIR: processSpoolDir(cfg.spoolDir, index), VOICE_SERVE_PROCESS: String(index) });
    slots.set(index, { worker, generation });
    worker.on('exit', (code, signal) => {
      slots.delete(index);
      if (stopping) {
        // A worker still starting when SIGTERM came has no handler yet and dies of the signal: asked for.
        if (code !== 0 && signal !== 'SIGTERM') failed = true;
        log.info({ workerId, code, signal, remaining: slots.size }, 'worker process stopped');
        if (slots.size === 0) {
          clearTimeout(killTimer);
          resolveDone(failed ? 1 : 0);
        }
        return;
      }
      const now = Date.now();
      while (restarts.length > 0 && restarts[0]! < now - cfg.restartWindowMs) restarts.shift();
      if (restarts.length >= cfg.maxRestarts) {
        log.fatal({ workerId, code, signal, restarts: restarts.length, windowMs: cfg.restartWindowMs }, 'worker process died too often; stopping every process');
        failed = true;
        stop('restart limit');
        return;
      }
      restarts.push(now);
      const delayMs = Math.min(5000, 250 * 2 ** (restarts.length - 1));
      log.error({ workerId, code, signal, delayMs }, 'worker process died; restarting');
      // Not unref'd: with every worker dead and waiting, this timer is what keeps the primary alive.
      const t = setTimeout(() => {
        pending.delete(t);
        if (!stopping) fork(index, generation + 1);
      }, delayMs);
      pending.add(t);
    });
  };

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason, processes: slots.size }, 'stopping worker processes');
    for (const t of pending) clearTimeout(t);
    pending.clear();
    if (slots.size === 0) {
      resolveDone(failed ? 1 : 0);
      return;
    }
    for (const { worker } of slots.values()) worker.process.kill('SIGTERM');
    killTimer = setTimeout(() => {
      for (const { worker } of slots.values()) {
        log.error({ pid: worker.process.pid }, 'worker process did not stop in time; killing it');
        worker.process.kill('SIGKILL');
      }
    }, cfg.drainTimeoutMs + STOP_MARGIN_MS);
    killTimer.unref();
  };

  const onSignal = (signal: NodeJS.Signals) => stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  log.info({ processes: cfg.processes, workerIdBase: base }, 'starting worker processes');
  for (let i = 1; i <= cfg.processes; i++) fork(i, 0);
  return done.finally(() => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  });
}

/**
 * The serve command's hook: in the primary with more than one process to run, starts them and returns
 * the primary's exit-code promise; otherwise (one process, or inside a forked worker) returns null and
 * serve runs in this process.
 */
export function maybeRunPrimary(
  flag: string | undefined,
  config: {
    readonly mode: 'production' | 'development';
    readonly state: { readonly backend: 'redis' | 'memory' };
    readonly archive: { readonly spoolDir: string };
    readonly shutdownDrainTimeoutMs: number;
  },
  log: Logger,
): Promise<number> | null {
  if (isServeWorkerProcess()) return null;
  const processes = resolveProcesses(flag, config.state.backend, config.mode);
  if (processes === 1) return null;
  const base = process.env.WORKER_ID;
  return runPrimary(
    {
      processes,
      baseWorkerId: base === undefined || base === '' ? null : base,
      spoolDir: config.archive.spoolDir,
      drainTimeoutMs: config.shutdownDrainTimeoutMs,
      maxRestarts: DEFAULT_MAX_RESTARTS,
      restartWindowMs: DEFAULT_RESTART_WINDOW_MS,
    },
    log,
  );
}
