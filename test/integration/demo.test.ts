// The demo end to end, in process: simulator + worker on Redis, the default scripted calls (questions,
// a barge-in, PIN by keypad then the balance), transcripts read back from the conversation store.
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoResult } from '../../src/demo/run-demo.js';
import { silentLogger } from '../../src/logger.js';
import { freePort } from '../support/free-port.js';
import { removeKeys, testAppName, testRedisUrl } from '../support/test-env.js';

describe('voice-worker demo', () => {
  const appName = testAppName();
  afterAll(async () => {
    await removeKeys(testRedisUrl(), appName);
  });

  it('runs the default scripted calls to success and returns each conversation', async () => {
    let started: string | undefined;
    let printed: DemoResult | undefined;
    const result = await runDemo({
      env: { APP_NAME: appName, APP_ENV: 'test', REDIS_URL: testRedisUrl(), LOG_LEVEL: 'silent' },
      log: silentLogger(),
      onStart: (s) => (started = s.state),
      onResult: (r) => void (printed = r),
    });

    expect(started).toMatch(/^redis/);
    expect(printed).toBe(result);
    expect(result.report.sim.failuresByCause).toEqual({});
    expect(result.exitCode).toBe(0);
    expect(result.report.sim.calls).toMatchObject({ requested: 3, started: 3, succeeded: 3, failed: 0 });
    expect(result.transcripts.map((t) => t.label)).toEqual(['qa', 'barge-in', 'dtmf+qa']);
    for (const t of result.transcripts) {
      expect(t.ok).toBe(true);
      expect(t.turns.some((x) => x.speaker === 'user' && x.text.length > 0)).toBe(true);
      expect(t.turns.some((x) => x.speaker === 'assistant' && x.text.length > 0)).toBe(true);
    }
    const [qa, barge, dtmf] = result.transcripts;
    // The agent answered the questions it was asked.
    expect(qa!.turns.some((x) => x.speaker === 'assistant' && /open Monday to Friday/.test(x.text))).toBe(true);
    // The caller cut a reply short: only what was played is kept, marked interrupted.
    expect(barge!.turns.some((x) => x.speaker === 'assistant' && x.interrupted === true)).toBe(true);
    // The PIN went in by keypad (masked in the transcript), then the balance was given.
    expect(dtmf!.turns.some((x) => x.speaker === 'user' && x.kind === 'dtmf' && !x.text.includes('1234'))).toBe(true);
    expect(dtmf!.turns.some((x) => x.speaker === 'assistant' && /balance is \$/.test(x.text))).toBe(true);
    // Each call is a separate conversation.
    expect(new Set(result.transcripts.map((t) => t.callId)).size).toBe(3);
  }, 120_000);

  it('falls back to in-process state when no Redis answers at REDIS_URL', async () => {
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    let started: string | undefined;
    const result = await runDemo({
      scenario: 'barge-in',
      env: { APP_NAME: testAppName(), REDIS_URL: nobody, LOG_LEVEL: 'silent' },
      log: silentLogger(),
      onStart: (s) => (started = s.state),
    });
    expect(started).toMatch(/^memory \(no Redis answered/);
    expect(result.report.demo.state).toBe(started);
    expect(result.exitCode).toBe(0);
    expect(result.transcripts).toHaveLength(1);
    expect(result.transcripts[0]!.turns.some((x) => x.speaker === 'user')).toBe(true);
  }, 60_000);
});
