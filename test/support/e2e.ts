// End to end on one machine: the simulator (a local ACS) and a real worker wired to it. The worker
// binds a port chosen first so PUBLIC_BASE_URL (callback and media URLs) names it exactly.
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import type { SimCall } from '../../src/simulator/sim-call.js';
import { createWorker, type Worker, type WorkerOptions } from '../../src/wiring/create-worker.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { freePort } from './free-port.js';
import { removeKeys, testConfig, testRedisUrl } from './test-env.js';

export interface E2E {
  readonly sim: Simulator;
  readonly worker: Worker;
  readonly baseUrl: string;
  /** The worker's Event Grid endpoint, for sim.runCalls({ target }). */
  readonly target: string;
  close(): Promise<void>;
}

export interface E2EOptions {
  /** Extra worker environment (e.g. STATE_BACKEND=memory). Redis is the default backend. */
  readonly env?: Record<string, string>;
  readonly log?: Logger;
  readonly worker?: WorkerOptions;
}

export async function startE2E(opts: E2EOptions = {}): Promise<E2E> {
  const sim = await startSimulator();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const memory = opts.env?.STATE_BACKEND === 'memory';
  const config = testConfig({
    ...sim.workerEnv(),
    PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    ...(memory ? {} : { REDIS_URL: testRedisUrl() }),
    ...opts.env,
  });
  const worker = await createWorker(config, opts.log ?? silentLogger(), { defaultMetrics: false, ...opts.worker });
  await worker.start();
  return {
    sim,
    worker,
    baseUrl,
    target: `${baseUrl}/api/incoming-call`,
    async close() {
      await sim.close();
      await worker.stop('test end');
      if (!memory) await removeKeys(testRedisUrl(), config.appName);
    },
  };
}

/** The worker's call id for a simulated call (it is in the callback URL the worker gave ACS). */
export function workerCallId(call: SimCall): string {
  const url = call.answer?.callbackUri;
  if (!url) throw new Error(`call ${call.index} was never answered`);
  const id = new URL(url).searchParams.get('callId');
  if (!id) throw new Error(`callback URL carries no callId: ${url}`);
  return id;
}

/** Polls until `probe` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
