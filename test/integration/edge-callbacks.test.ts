// POST /api/callbacks against a real worker: authentication, de-duplication, dispatch, bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../src/domain/call-records.js';
import { answerOne, callbackEvent, metricValue, postJson, startEdgeHarness, type AnsweredCall, type EdgeHarness } from '../support/edge-harness.js';

describe('ACS callbacks', () => {
  let h: EdgeHarness;
  const finalized: { callId: string; outcome: CallOutcome }[] = [];
  beforeAll(async () => {
    h = await startEdgeHarness();
    h.worker.edge.onFinalize(async (call, outcome) => void finalized.push({ callId: call.callId, outcome }));
  });
  afterAll(async () => {
    await h.close();
  });

  const post = async (call: AnsweredCall, events: unknown, auth?: string | null, url = call.callbackUrl) => {
    const token = auth === undefined ? `Bearer ${await h.jwks.token()}` : auth;
    return postJson(url, events, token ? { authorization: token } : {});
  };

  const connectedAfter = async (call: AnsweredCall, res: Response) => {
    await res.arrayBuffer();
    return h.worker.calls.get(call.callId)?.phase;
  };

  describe('authentication (401 and no state change)', () => {
    let call: AnsweredCall;
    beforeAll(async () => {
      call = await answerOne(h);
    });
    const connected = () => [callbackEvent('CallConnected', call.callConnectionId)];

    it('no JWT', async () => {
      const res = await post(call, connected(), null);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'VOICE_ERR_UNAUTHENTICATED' });
      expect(h.worker.calls.get(call.callId)?.phase).toBe('answering');
    });

    it('JWT signed by another key', async () => {
      const res = await post(call, connected(), `Bearer ${await h.jwks.token({ foreignKey: true })}`);
      expect(res.status).toBe(401);
      expect(await connectedAfter(call, res)).toBe('answering');
    });

    it('JWT for another audience', async () => {
      const res = await post(call, connected(), `Bearer ${await h.jwks.token({ audience: 'someone-else' })}`);
      expect(res.status).toBe(401);
      expect(await connectedAfter(call, res)).toBe('answering');
    });

    it('expired JWT', async () => {
      const res = await post(call, connected(), `Bearer ${await h.jwks.token({ expiresAt: Math.floor(Date.now() / 1000) - 3600 })}`);
      expect(res.status).toBe(401);
      expect(await connectedAfter(call, res)).toBe('answering');
    });

    it('wrong per-call secret', async () => {
      const wrong = call.callbackUrl.replace(`secret=${call.secret}`, 'secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      const res = await post(call, connected(), undefined, wrong);
      expect(res.status).toBe(401);
      expect(await connectedAfter(call, res)).toBe('answering');
    });

    it('and every failure was counted', async () => {
      expect(await metricValue(h.worker, 'voice_acs_auth_failures_total', { route: 'callbacks', reason: 'jwt' })).toBe(4);
      expect(await metricValue(h.worker, 'voice_acs_auth_failures_total', { route: 'callbacks', reason: 'secret' })).toBe(1);
    });

    it('then a valid callback connects the call', async () => {
      const res = await post(call, connected());
      expect(res.status).toBe(200);
      expect(h.worker.calls.get(call.callId)?.phase).toBe('connected');
    });
  });

  it('a redelivered event id has no second effect', async () => {
    const call = await answerOne(h);
    const seen: string[] = [];
    h.worker.calls.get(call.callId)?.events.on('callback', (e) => seen.push(e.type));
    const ev = callbackEvent('ParticipantsUpdated', call.callConnectionId, { data: { sequenceNumber: 1, participants: [] } });
    expect((await post(call, [ev])).status).toBe(200);
    const again = await post(call, [ev]);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(seen).toEqual(['ParticipantsUpdated']);
    expect(await metricValue(h.worker, 'voice_duplicate_events_total', { source: 'callback' })).toBeGreaterThanOrEqual(1);
  });

  it('an unknown event type is accepted and counted', async () => {
    const call = await answerOne(h);
    const before = await metricValue(h.worker, 'voice_callbacks_total', { type: 'unknown', outcome: 'ignored' });
    const res = await post(call, [callbackEvent('HoldAudioStarted', call.callConnectionId)]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ignored: 1 });
    expect(await metricValue(h.worker, 'voice_callbacks_total', { type: 'unknown', outcome: 'ignored' })).toBe(before + 1);
    expect(h.worker.calls.get(call.callId)?.phase).toBe('answering');
  });

  describe('malformed bodies get a 4xx with a reason and the worker keeps serving', () => {
    let call: AnsweredCall;
    beforeAll(async () => {
      call = await answerOne(h);
    });

    it('not JSON', async () => {
      const res = await post(call, '{"id": "x", ');
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'VOICE_ERR_BAD_REQUEST' });
    });

    it('not an array', async () => {
      const res = await post(call, callbackEvent('CallConnected', call.callConnectionId));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('VOICE_ERR_INVALID_PAYLOAD');
      expect(body.message).toContain('array');
    });

    it('missing fields', async () => {
      const { id: _id, ...noId } = callbackEvent('CallConnected', call.callConnectionId);
      const res = await post(call, [noId]);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain('0.id');
      const noData = await post(call, [{ id: 'e', type: 'Microsoft.Communication.CallConnected' }]);
      expect(noData.status).toBe(400);
    });

    it('a 1 MB body', async () => {
      const big = [callbackEvent('ParticipantsUpdated', call.callConnectionId, { data: { pad: 'x'.repeat(1024 * 1024) } })];
      const res = await post(call, big);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: 'VOICE_ERR_BODY_TOO_LARGE' });
    });

    it('still serves the call afterwards', async () => {
      expect(h.worker.calls.get(call.callId)?.phase).toBe('answering');
      const res = await post(call, [callbackEvent('CallConnected', call.callConnectionId)]);
      expect(res.status).toBe(200);
      expect(h.worker.calls.get(call.callId)?.phase).toBe('connected');
      expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    });
  });

  it('CallDisconnected finalizes exactly once, whatever else arrives', async () => {
    const call = await answerOne(h);
    const ended: string[] = [];
    const live = h.worker.calls.get(call.callId);
    live?.events.on('ended', (e) => ended.push(e.outcome));
    expect((await post(call, [callbackEvent('CallConnected', call.callConnectionId)])).status).toBe(200);
    const bye = callbackEvent('CallDisconnected', call.callConnectionId);
    const results = await Promise.all([
      post(call, [bye]),
      post(call, [bye]),
      post(call, [callbackEvent('CallDisconnected', call.callConnectionId)]),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    live?.events.emit('mediaClosed', { code: 1000, reason: 'bye' });
    await h.worker.edge.supervisor.settled();
    for (let i = 0; i < 100 && h.worker.calls.get(call.callId); i++) await new Promise((r) => setTimeout(r, 10));
    expect(finalized.filter((f) => f.callId === call.callId)).toEqual([{ callId: call.callId, outcome: 'caller-hangup' }]);
    expect(ended).toEqual(['caller-hangup']);
    expect(h.worker.calls.get(call.callId)).toBeUndefined();
    // A late event for the finished call is accepted and has no effect.
    expect((await post(call, [callbackEvent('PlayCompleted', call.callConnectionId)])).status).toBe(200);
    expect(finalized.filter((f) => f.callId === call.callId)).toHaveLength(1);
  });
});

describe('ACS_AUTH_DISABLED_DEV_ONLY', () => {
  it('skips the JWT but still checks the per-call secret', async () => {
    const h = await startEdgeHarness({ ACS_AUTH_DISABLED_DEV_ONLY: 'true' });
    try {
      const call = await answerOne(h);
      const events = [callbackEvent('CallConnected', call.callConnectionId)];
      const wrong = call.callbackUrl.replace(`secret=${call.secret}`, 'secret=nope');
      expect((await postJson(wrong, events)).status).toBe(401);
      expect(h.worker.calls.get(call.callId)?.phase).toBe('answering');
      expect((await postJson(call.callbackUrl, events)).status).toBe(200);
      expect(h.worker.calls.get(call.callId)?.phase).toBe('connected');
    } finally {
      await h.close();
    }
  });
});
