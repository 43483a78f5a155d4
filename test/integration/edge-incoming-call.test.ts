// POST /api/incoming-call against a real worker that answers through the real call-automation SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOne, incomingCallEvent, metricValue, postJson, startEdgeHarness, type EdgeHarness } from '../support/edge-harness.js';

describe('incoming calls', () => {
  let h: EdgeHarness;
  beforeAll(async () => {
    // No SDK retries: an injected 503 reaches the worker as a transient failure at once.
    h = await startEdgeHarness({ ACS_MAX_RETRIES: '0' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers the Event Grid validation handshake', async () => {
    const res = await postJson(
      `${h.url}/api/incoming-call`,
      [
        {
          id: 'v1',
          topic: 't',
          subject: '',
          eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
          eventTime: new Date().toISOString(),
          data: { validationCode: 'code-512', validationUrl: 'https://example.invalid/validate' },
          dataVersion: '1',
          metadataVersion: '1',
        },
      ],
      { 'aeg-event-type': 'SubscriptionValidation' },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ validationResponse: 'code-512' });
  });

  it('answers with media streaming on /ws/media carrying the per-call secret, and no transcription without a Cognitive Services endpoint', async () => {
    const call = await answerOne(h);
    const a = h.acs.answers.find((x) => x.callConnectionId === call.callConnectionId);
    const media = a?.body.mediaStreamingOptions as Record<string, unknown>;
    expect(media['transportUrl']).toBe(`${h.url.replace('http:', 'ws:')}/ws/media?callId=${call.callId}&secret=${call.secret}`);
    // ACS answers TranscriptionFailed (8522) when callIntelligenceOptions.cognitiveServicesEndpoint is absent.
    expect(a?.body.transcriptionOptions).toBeUndefined();
    expect(a?.body.operationContext).toBe(call.callId);
    expect(Buffer.from(call.secret, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(await h.worker.state.sessions.getAuthState(call.callId)).toMatchObject({ secret: call.secret, callerVerified: false });
    const live = h.worker.calls.get(call.callId);
    expect(live?.phase).toBe('answering');
    expect(live?.callConnectionId).toBe(call.callConnectionId);
    expect(live?.from).not.toContain('5550001234');
    const ctx = await h.worker.state.conversations.getState(call.callId);
    expect(JSON.stringify(ctx)).toContain('4:+15550001234');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/voice_calls\{phase="answering"[^}]*\} [1-9]/);
  });

  it('answers an IncomingCall once across three redeliveries, sequential and concurrent', async () => {
    const ev = incomingCallEvent();
    const before = h.acs.answers.length;
    const dupsBefore = await metricValue(h.worker, 'voice_incoming_calls_total', { result: 'duplicate' });
    const first = await postJson(`${h.url}/api/incoming-call`, [ev]);
    expect(first.status).toBe(200);
    const again = await Promise.all([1, 2, 3].map(() => postJson(`${h.url}/api/incoming-call`, [ev])));
    expect(again.map((r) => r.status)).toEqual([200, 200, 200]);
    const ev2 = incomingCallEvent();
    const burst = await Promise.all([1, 2, 3].map(() => postJson(`${h.url}/api/incoming-call`, [ev2])));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200]);
    const contexts = h.acs.answers.slice(before).map((a) => a.body.incomingCallContext);
    expect(contexts.sort()).toEqual([ev.data.incomingCallContext, ev2.data.incomingCallContext].sort());
    expect(await metricValue(h.worker, 'voice_incoming_calls_total', { result: 'duplicate' })).toBe(dupsBefore + 5);
  });

  it('does not answer a stale IncomingCall', async () => {
    const before = h.acs.answers.length;
    const staleBefore = await metricValue(h.worker, 'voice_incoming_calls_stale_total');
    const res = await postJson(`${h.url}/api/incoming-call`, [incomingCallEvent({ eventTime: new Date(Date.now() - 120_000) })]);
    expect(res.status).toBe(200);
    expect(h.acs.answers.length).toBe(before);
    expect(await metricValue(h.worker, 'voice_incoming_calls_stale_total')).toBe(staleBefore + 1);
  });

  // "Event Grid message delivery and retry": a non-2xx is retried after ~10 s, then 30 s, 1 min, 5 min —
  // too late for a ringing call. The worker answers 200 and retries ACS itself.
  it('a transient answer failure gets 200 (never 503) and is retried in process, answering the call once', async () => {
    const ev = incomingCallEvent();
    const before = h.acs.answers.length;
    h.acs.failNext(1, 503);
    const first = await postJson(`${h.url}/api/incoming-call`, [ev]);
    expect(first.status).toBe(200);
    for (let i = 0; i < 300 && h.acs.answers.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(h.acs.answers.slice(before).map((a) => a.body.incomingCallContext)).toEqual([ev.data.incomingCallContext]);
    expect(await metricValue(h.worker, 'voice_call_answers_total', { outcome: 'transient' })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(h.worker, 'voice_call_answers_total', { outcome: 'retried' })).toBeGreaterThanOrEqual(1);
    // Event Grid's own redelivery (~10 s later) is then a harmless duplicate.
    const redelivery = await postJson(`${h.url}/api/incoming-call`, [ev]);
    expect(redelivery.status).toBe(200);
    expect(h.acs.answers.slice(before)).toHaveLength(1);
  });

  it('a permanent answer failure is not retried by a redelivery', async () => {
    const ev = incomingCallEvent();
    const before = h.acs.answers.length;
    h.acs.failNext(1, 400);
    expect((await postJson(`${h.url}/api/incoming-call`, [ev])).status).toBe(200);
    expect((await postJson(`${h.url}/api/incoming-call`, [ev])).status).toBe(200);
    expect(h.acs.answers.length).toBe(before);
    expect(await metricValue(h.worker, 'voice_call_answers_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(1);
  });

  it('rejects malformed Event Grid bodies with a reason', async () => {
    const notArray = await postJson(`${h.url}/api/incoming-call`, { eventType: 'x' });
    expect(notArray.status).toBe(400);
    expect(await notArray.json()).toMatchObject({ error: 'VOICE_ERR_INVALID_PAYLOAD' });
    const ev = incomingCallEvent();
    const broken = { ...ev, data: { ...ev.data, incomingCallContext: undefined } };
    const missing = await postJson(`${h.url}/api/incoming-call`, [broken]);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toContain('incomingCallContext');
    expect(h.acs.rejected).toEqual([]);
  });
});

describe('incoming calls while draining', () => {
  it('answers 503 so Event Grid delivers to another replica', async () => {
    const h = await startEdgeHarness();
    try {
      // Work in flight keeps the drain open while the event arrives.
      let release = () => {};
      void h.worker.lifecycle.track(new Promise<void>((r) => (release = r)));
      const stopping = h.worker.stop('test');
      const res = await postJson(`${h.url}/api/incoming-call`, [incomingCallEvent()]);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'VOICE_ERR_DRAINING' });
      release();
      await stopping;
      expect(h.acs.answers).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe('a slow ACS and a full replica', () => {
  let h: EdgeHarness;
  beforeAll(async () => {
    h = await startEdgeHarness({ INCOMING_CALL_REPLY_BUDGET_MS: '50', MAX_CONCURRENT_CALLS: '1' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('replies 200 while ACS is still answering, never answers twice, and refuses calls beyond capacity', async () => {
    const release = h.acs.holdNext();
    const ev = incomingCallEvent();
    // ACS has not answered yet: the reply comes back anyway, and a redelivery is a no-op.
    expect((await postJson(`${h.url}/api/incoming-call`, [ev])).status).toBe(200);
    expect((await postJson(`${h.url}/api/incoming-call`, [ev])).status).toBe(200);
    expect(h.acs.answers).toEqual([]);
    expect(h.worker.lifecycle.inflight).toBeGreaterThanOrEqual(1);
    // The replica holds its one call: the next IncomingCall is refused for another replica to take.
    const full = await postJson(`${h.url}/api/incoming-call`, [incomingCallEvent()]);
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ error: 'VOICE_ERR_OVERLOADED' });
    release();
    for (let i = 0; i < 200 && h.acs.answers.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 200 && h.worker.lifecycle.inflight > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(h.acs.answers.map((a) => a.body.incomingCallContext)).toEqual([ev.data.incomingCallContext]);
    expect(await metricValue(h.worker, 'voice_incoming_calls_total', { result: 'overloaded' })).toBe(1);
  });
});
