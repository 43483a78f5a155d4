// A call answered on one replica whose audio is on the other, Redis frozen (SIGSTOP) while it ends:
// nothing of it stays on either replica. The answering replica (A) holds a controller for the call
// but not its audio; its media-connect timer asks Redis who owns the call, and while Redis is frozen
// it can only re-arm, so the controller outlived the call (ended by its owner during the freeze) by
// up to CALL_MEDIA_CONNECT_TIMEOUT_MS after Redis answered again: the fault suite's "redis frozen
// (SIGSTOP) 35 s" row counted those controllers as leaked (voice_calls on the answering replica). The
// proof that another replica holds the call's audio is local: that replica accepted the call's
// transcription, forwarded straight to it (PEER_URL) while Redis could not route it. A lets go on it.
// Timers here are long (60 s) so only that proof can clean A up within the test; one short call.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { eventually } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';
import { startBalancer, type TcpBalancer } from '../support/tcp-balancer.js';
import { testAppName, testConfig } from '../support/test-env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One metric summed over its series (0 when absent). */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function held(w: Worker): Promise<{ calls: number; sessions: number }> {
  const text = await w.registry.metrics();
  return { calls: metricSum(text, 'voice_calls'), sessions: metricSum(text, 'voice_media_sessions') };
}

describe('a call answered on one replica and streamed on the other ends while Redis is frozen', () => {
  let redis: PrivateRedis;
  let sim: Simulator;
  let balancer: TcpBalancer;
  const workers: Worker[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator();
    balancer = await startBalancer([]);
  });
  afterAll(async () => {
    redis?.signal('SIGCONT');
    await sim?.close();
    for (const w of workers) await w.stop('test end').catch(() => undefined);
    await balancer?.close();
    await redis?.stop();
  });

  async function replica(appName: string): Promise<{ w: Worker; port: number }> {
    const port = await freePort();
    const id = `r-${randomUUID().slice(0, 6)}`;
    const w = await createWorker(
      testConfig({
        ...sim.workerEnv(),
        APP_NAME: appName,
        APP_ENV: 'test',
        REDIS_URL: redis.url,
        REDIS_COMMAND_TIMEOUT_MS: '300',
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_BASE_URL: balancer.url,
        PEER_URL: `http://127.0.0.1:${port}`,
        WORKER_ID: id,
        TTL_WORKER: '3',
        // Only a proof can let the answering replica go this early (not a timer).
        CALL_ANSWER_TIMEOUT_MS: '60000',
        CALL_MEDIA_CONNECT_TIMEOUT_MS: '60000',
        SPOOL_DIR: join(tmpdir(), 'voice-worker-test', appName, id),
      }),
      silentLogger(),
      { defaultMetrics: false },
    );
    await w.start();
    workers.push(w);
    return { w, port };
  }

  it('the answering replica lets go once the owner accepted its transcription straight; calls and media sessions back to zero on both, during the freeze', async () => {
    const appName = testAppName();
    const [a, b] = await Promise.all([replica(appName), replica(appName)]);
    balancer.setTargets([
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: b.port },
    ]);
    // Answered on A, callbacks to A, its audio on B, its transcription socket on A (forwarding to B).
    balancer.route = (head) => (head.startsWith('GET /ws/media') ? 1 : 0);
    // Each replica has seen the other's address (heartbeats every second).
    await sleep(1500);
    const before = sim.calls.length;
    const run = sim.runCalls({ target: `${balancer.url}/api/incoming-call`, calls: 1, concurrency: 1, scenario: 'goodbye', durationS: 0 });
    // The greeting plays on B; A holds the call's controller (answered there, streaming elsewhere).
    const call = await eventually(() => (sim.calls[before]?.firstAgentAudioAt !== undefined ? sim.calls[before] : undefined), 20_000, 20);
    expect((await held(a.w)).calls).toBe(1);
    expect((await held(b.w)).sessions).toBe(1);
    // The caller says goodbye after the greeting, with Redis frozen: the final result reaches B straight.
    redis.signal('SIGSTOP');
    try {
      const report = await run;
      expect(report.failuresByCause).toEqual({});
      expect(call.state).toBe('disconnected');
      // Still frozen: nothing of the call is left on either replica.
      const left = await eventually(
        async () => {
          const [ha, hb] = await Promise.all([held(a.w), held(b.w)]);
          return ha.calls + ha.sessions + hb.calls + hb.sessions === 0 ? { ha, hb } : undefined;
        },
        5000,
        100,
      ).catch(async () => ({ ha: await held(a.w), hb: await held(b.w) }));
      expect(left).toEqual({ ha: { calls: 0, sessions: 0 }, hb: { calls: 0, sessions: 0 } });
      expect(await a.w.registry.metrics()).toMatch(/voice_calls_ended_total\{[^}]*outcome="handed-over"[^}]*\} 1/);
      expect(await a.w.registry.metrics()).toMatch(/voice_media_remote_events_total\{[^}]*kind="transcript_final"[^}]*result="direct"[^}]*\} [1-9]/);
    } finally {
      redis.signal('SIGCONT');
    }
  }, 40_000);
});
