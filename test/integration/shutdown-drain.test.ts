// A rolling deploy loses nothing: a `serve` process (the CLI, a real child process) with two live
// calls gets SIGTERM. It stops admitting, lets the calls continue up to SHUTDOWN_DRAIN_TIMEOUT_MS,
// then ends and finalizes every call still live as 'worker-shutdown' (hung up through Call
// Automation, archive job sent to Service Bus — the local AMQP peer), flushes the spool, names what
// is left in its last log line, and exits 0. Bounded: the drain deadline is 3 s.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { eventually, workerCallId } from '../support/e2e.js';
import { AmqpPeer } from '../support/amqp-peer.js';
import { freePort } from '../support/free-port.js';
import { removeKeys, testAppName, testRedisUrl } from '../support/test-env.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const QUEUE = 'call-archive';
const DRAIN_MS = 3000;

function bodyJson(message: { body?: unknown; application_properties?: Record<string, unknown> }): Record<string, unknown> {
  const b = message.body as { content?: unknown } | Buffer | undefined;
  let buf = Buffer.isBuffer(b) ? b : Buffer.isBuffer(b?.content) ? (b?.content as Buffer) : Buffer.from(String(b));
  if (message.application_properties?.['content-encoding'] === 'gzip' || (buf[0] === 0x1f && buf[1] === 0x8b)) buf = gunzipSync(buf);
  return JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
}

describe('SIGTERM with live calls (a real serve process)', () => {
  let sim: Simulator;
  let peer: AmqpPeer;
  const appName = testAppName();

  beforeAll(async () => {
    sim = await startSimulator();
    peer = await AmqpPeer.start();
  });
  afterAll(async () => {
    await sim?.close();
    await peer?.close();
    await removeKeys(testRedisUrl(), appName);
  });

  it('finalizes every call still live at the drain deadline, sends its archive job, and exits 0', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...sim.workerEnv(),
        APP_NAME: appName,
        APP_ENV: 'test',
        REDIS_URL: testRedisUrl(),
        SERVICEBUS_CONNECTION_STRING: peer.connectionString(),
        ARCHIVER_IN_SERVE: 'false',
        SPOOL_DIR: join(tmpdir(), 'voice-worker-test', appName),
        SHUTDOWN_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_BASE_URL: url,
        WORKER_ID: `wd-${randomUUID().slice(0, 8)}`,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let partial = '';
    proc.stdout?.on('data', (c: Buffer) => {
      const parts = (partial + c.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
    });
    proc.stderr?.on('data', (c: Buffer) => lines.push(c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      await eventually(async () => ((await fetch(`${url}/readyz`).catch(() => null))?.status === 200 ? true : undefined), 45_000, 100);
      const before = sim.calls.length;
      const run = sim.runCalls({ target: `${url}/api/incoming-call`, calls: 2, concurrency: 2, scenario: 'silence', durationS: 60 });
      await eventually(() => (sim.calls.length >= before + 2 && sim.calls.slice(before).every((c) => c.mediaConnections >= 1) ? true : undefined), 20_000);
      const calls = sim.calls.slice(before);
      const callIds = calls.map(workerCallId).sort();
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      proc.kill('SIGTERM');
      // Stops admitting: readiness says draining (503) while the calls go on.
      const draining = await eventually(async () => {
        const res = await fetch(`${url}/readyz`).catch(() => null);
        return res && res.status !== 200 ? res.status : undefined;
      }, 2_000, 20);
      expect(draining).toBe(503);
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
      expect(code).toBe(0);
      // The calls were allowed to continue until the deadline, not cut at SIGTERM.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(DRAIN_MS - 1500);
      await run;
      // Every live call was hung up and its archive job is on Service Bus, outcome worker-shutdown.
      for (const c of calls) expect(c.hangupRequests.length).toBeGreaterThanOrEqual(1);
      const sent = peer.ready(QUEUE);
      expect(sent.map((m) => m.messageId).sort()).toEqual(callIds);
      for (const m of sent) expect(bodyJson(m.message as never)).toMatchObject({ outcome: 'worker-shutdown' });
      // The last line names what stayed on disk: nothing.
      const last = JSON.parse(lines.filter((l) => l.startsWith('{')).at(-1) ?? '{}') as Record<string, unknown>;
      expect(last).toMatchObject({ msg: 'stopped', spoolLeft: [] });
      expect(lines.filter((l) => l.includes('"msg":"call ended"') && l.includes('worker-shutdown'))).toHaveLength(2);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 90_000);
});
