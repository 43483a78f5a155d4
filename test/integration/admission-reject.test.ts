// Issue 18, item 3: a call refused admission (tenant cap) is declined the way ACS expects: the real
// SDK's rejectCall (reason busy) against the simulator's POST /calling/callConnections:reject, never
// left ringing; the answered call's slot is freed when it ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import type { RedisClient } from '../../src/adapters/redis/redis-client.js';
import { eventually, startE2E, type E2E } from '../support/e2e.js';

describe('a refused call is declined through the simulator (real SDK rejectCall, reason busy)', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E({ env: { TENANTS: JSON.stringify([{ id: 'acme', maxConcurrent: 1, numbers: ['+18005550100'] }]) } });
  });
  afterAll(async () => e?.close());

  it('one call answered, the others declined busy (204 from POST /calling/callConnections:reject), and the slot freed after the call', async () => {
    const report = await e.sim.runCalls({ target: e.target, calls: 3, concurrency: 3, scenario: 'silence', durationS: 0 });
    const calls = e.sim.calls;
    expect(calls.filter((c) => c.answers === 1)).toHaveLength(1);
    expect(calls.filter((c) => c.rejectedWith === 'busy')).toHaveLength(2);
    expect(calls.filter((c) => c.rejectedWith !== undefined).every((c) => c.failure === 'declined-busy' && c.answerRequests === 0)).toBe(true);
    expect(report).toBeDefined();
    const keys = new RedisKeys({ appName: e.worker.config.appName, appEnv: e.worker.config.appEnv });
    const r = e.worker.redis as RedisClient;
    await eventually(async () => ((await r.zcard(keys.slots('acme'))) === 0 ? true : undefined), 5_000);
    expect(await r.zcard(keys.globalSlots())).toBe(0);
    expect(e.worker.admission.held).toBe(0);
    const text = await e.worker.registry.metrics();
    expect(text).toMatch(/voice_admission_decisions_total\{decision="refused-tenant",path="redis"[^}]*\} 2/);
    expect(text).toMatch(/voice_incoming_calls_total\{result="refused_tenant"[^}]*\} 2/);
    // Item 7: the answered call's tenant (resolved at admission) reaches the archive job and its aggregates.
    const day = new Date().toISOString().slice(0, 10);
    const agg = await eventually(async () => (await e.worker.archive.analytics.read('acme', day)).day ?? undefined, 5_000);
    expect(agg).toMatchObject({ calls: 1, byDirection: { inbound: 1 } });
  }, 15_000);
});

