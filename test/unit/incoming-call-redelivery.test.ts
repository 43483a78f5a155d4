// What happens to an IncomingCall and its redeliveries, against Event Grid's documented schedule
// ("Event Grid message delivery and retry", learn.microsoft.com/azure/event-grid/delivery-and-retry:
// retries after ~10 s, 30 s, 1 min, 5 min, ...; a 503 is retried no sooner; 400/401/413 never). The
// route answers 200 for every event it accepts and retries ACS itself; a redelivery 10 s later is a
// duplicate or, when every answer failed, a fresh chance; one 30 s+ later (landing ~40 s and ~100 s
// after the event) is older than INCOMING_CALL_MAX_AGE_S and acknowledged without answering.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { CallRegistry } from '../../src/domain/live-call.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';
import { edgeMetrics } from '../../src/server/edge-metrics.js';
import { incomingCallRoutes, type AnswerOutcome } from '../../src/server/incoming-call-routes.js';
import type { SessionStore } from '../../src/domain/ports.js';

const T0 = 1_800_000_000_000;

function rig(opts: { outcomes?: AnswerOutcome[]; admit?: () => boolean; sessions?: SessionStore } = {}) {
  let now = T0;
  const clock = { now: () => now, monotonic: () => now };
  const sessions = opts.sessions ?? new MemorySessionStore({ clock }, { dedup: 3600, auth: 900, session: 60, summary: 60 });
  const answered: string[] = [];
  const outcomes = [...(opts.outcomes ?? [])];
  const app = Fastify();
  void app.register(
    incomingCallRoutes(
      {
        sessions,
        metrics: edgeMetrics(createRegistry({ defaultMetrics: false }), new CallRegistry()),
        lifecycle: { draining: false, track: (p) => p },
        admit: opts.admit ?? (() => true),
        answer: async (_ev, data) => {
          answered.push(data.incomingCallContext);
          return outcomes.shift() ?? 'answered';
        },
        now: () => now,
        log: silentLogger(),
      },
      { workerId: 'w1', maxAgeS: 30, replyBudgetMs: 2000, webhookKey: undefined, answerRetryDelaysMs: [1, 1] },
    ),
  );
  const deliver = async (correlationId: string, eventTime: number) =>
    app.inject({
      method: 'POST',
      url: '/api/incoming-call',
      payload: [
        {
          id: `ev-${correlationId}`,
          eventType: 'Microsoft.Communication.IncomingCall',
          eventTime: new Date(eventTime).toISOString(),
          subject: 's',
          data: { to: { rawId: '4:+18005550100' }, from: { rawId: '4:+14255550123' }, incomingCallContext: `ctx-${correlationId}`, correlationId },
        },
      ],
    });
  return { app, answered, deliver, at: (ms: number) => (now = T0 + ms) };
}

describe('IncomingCall redeliveries on the documented schedule', () => {
  it('answered call: the 10 s redelivery is a duplicate (200), the 30 s and 60 s ones are stale (200); one answer', async () => {
    const r = rig();
    expect((await r.deliver('a', T0)).statusCode).toBe(200);
    r.at(10_000);
    expect((await r.deliver('a', T0)).statusCode).toBe(200);
    r.at(40_000);
    expect((await r.deliver('a', T0)).statusCode).toBe(200);
    r.at(100_000);
    expect((await r.deliver('a', T0)).statusCode).toBe(200);
    expect(r.answered).toEqual(['ctx-a']);
  });

  it('a transient answer failure gets 200 (not 503) and is retried in process', async () => {
    const r = rig({ outcomes: ['retry', 'answered'] });
    const res = await r.deliver('b', T0);
    expect(res.statusCode).toBe(200);
    expect(r.answered).toEqual(['ctx-b', 'ctx-b']);
  });

  it('when every in-process attempt fails, the claim is released: the 10 s redelivery answers; a 40 s one would be stale', async () => {
    const r = rig({ outcomes: ['retry', 'retry', 'retry'] });
    expect((await r.deliver('c', T0)).statusCode).toBe(200);
    expect(r.answered).toHaveLength(3);
    r.at(10_000);
    expect((await r.deliver('c', T0)).statusCode).toBe(200);
    expect(r.answered).toHaveLength(4);
    const late = rig({ outcomes: ['retry', 'retry', 'retry'] });
    await late.deliver('d', T0);
    late.at(40_000);
    expect((await late.deliver('d', T0)).statusCode).toBe(200);
    expect(late.answered).toHaveLength(3);
  });

  it('the claim store being down does not refuse the call: answered on a local claim, a redelivery here is a duplicate', async () => {
    const broken = new MemorySessionStore({ clock: { now: () => T0, monotonic: () => 0 } }, { dedup: 3600, auth: 900, session: 60, summary: 60 });
    broken.claim = async () => {
      throw new Error('ECONNREFUSED');
    };
    const r = rig({ sessions: broken });
    expect((await r.deliver('e', T0)).statusCode).toBe(200);
    r.at(10_000);
    expect((await r.deliver('e', T0)).statusCode).toBe(200);
    expect(r.answered).toEqual(['ctx-e']);
  });

  it('a replica at capacity still answers 503 (it cannot take the call; a redelivery may reach another replica)', async () => {
    const r = rig({ admit: () => false });
    expect((await r.deliver('f', T0)).statusCode).toBe(503);
    expect(r.answered).toEqual([]);
  });
});
