// Issue 6 through the simulator: after real calls (a qa call and a barge-in call) on a real worker,
// every key under the worker's prefix expires, and the call's conversation, session and auth keys
// exist with the TTLs of the policy (the conversation's shortened to TTL_ARCHIVED once archived).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { ttlFor, type KeyKind } from '../../src/adapters/redis/ttl-policy.js';
import type { SimReport } from '../../src/simulator/report.js';
import { eventually, startE2E, workerCallId, type E2E } from '../support/e2e.js';
import { testRedisUrl } from '../support/test-env.js';
import { keysUnder, keysWithoutTtl } from '../support/ttl-scan.js';

/** The calls here last well under this; a TTL refreshed during the call is within it of the policy. */
const TTL_SLACK_S = 120;

describe('e2e: Redis keys after simulated calls', () => {
  let e: E2E;
  let report: SimReport;
  const duringCalls = new Set<string>();
  let scans = 0;
  /** Scans that ran while a call's turns were stored and its lease held (before the way out re-expires them). */
  let scansWithTurns = 0;

  beforeAll(async () => {
    e = await startE2E();
    const ended = new Set<string>();
    e.worker.edge.onFinalize(async (call) => void ended.add(call.callId));
    const appName = e.worker.config.appName;
    // Scan while the calls run too: keys that exist only mid-call (leases, held events) count as well.
    let running = true;
    const scanning = (async () => {
      while (running) {
        const live = await keysUnder(testRedisUrl(), appName);
        const withTurns = live.some((k) => k.endsWith(':history')) && live.some((k) => k.endsWith(':owner'));
        for (const k of await keysWithoutTtl(testRedisUrl(), appName)) duringCalls.add(k);
        scans++;
        if (withTurns) scansWithTurns++;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      report = await e.sim.runCalls({ target: e.target, calls: 2, concurrency: 2, scenario: 'qa,barge-in' });
      await eventually(() => (ended.size >= 2 ? true : undefined), 20_000);
    } finally {
      running = false;
      await scanning;
    }
  }, 120_000);

  afterAll(async () => {
    await e?.close();
  });

  it('ran both calls', () => {
    expect(report.failuresByCause).toEqual({});
    expect(report.calls.succeeded).toBe(2);
  });

  it('leaves no key without a TTL, during or after the calls', async () => {
    const appName = e.worker.config.appName;
    expect(scans).toBeGreaterThan(0);
    expect(scansWithTurns).toBeGreaterThan(0);
    expect([...duringCalls]).toEqual([]);
    expect(await keysUnder(testRedisUrl(), appName)).not.toEqual([]);
    expect(await keysWithoutTtl(testRedisUrl(), appName)).toEqual([]);
  });

  it('keeps each call’s conversation, session, auth and claim keys with the TTLs of the policy', async () => {
    const { config } = e.worker;
    const keys = new RedisKeys(config);
    const r = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      for (const call of e.sim.calls) {
        const id = workerCallId(call);
        // Archived (summary written): the conversation keys now expire after TTL_ARCHIVED.
        await eventually(async () => ((await e.worker.state.sessions.getSummary(id)) ? true : undefined), 20_000);
        const archivedS = Math.min(config.ttl.archived, ttlFor(config.ttl, 'conversationContext'));
        const expected: [string, KeyKind, number][] = [
          [keys.conversationHistory(id), 'conversationHistory', archivedS],
          [keys.conversationContext(id), 'conversationContext', archivedS],
          [keys.callSession(id), 'callSession', ttlFor(config.ttl, 'callSession')],
          [keys.callAuth(id), 'callAuth', ttlFor(config.ttl, 'callAuth')],
          // every callback the simulator delivered was claimed once (de-duplication) for TTL_DEDUP
          ...call.callbacks.map((cb): [string, KeyKind, number] => [keys.claim('event', cb.id), 'claim', ttlFor(config.ttl, 'claim')]),
        ];
        expect(call.callbacks.length).toBeGreaterThan(0);
        for (const [key, kind, policyS] of expected) {
          const ttlMs = await r.pttl(key);
          const policyMs = policyS * 1000;
          expect(ttlMs, `${kind} of call ${call.index} (-2 = missing, -1 = no TTL)`).toBeGreaterThan(0);
          expect(ttlMs, kind).toBeLessThanOrEqual(policyMs);
          expect(ttlMs, kind).toBeGreaterThan(policyMs - TTL_SLACK_S * 1000);
        }
      }
    } finally {
      r.disconnect();
    }
  });
});
