// The Call Automation adapter through the real SDK (HMAC-signed requests to the simulator's Call
// Automation server, the local ACS), and the worker's answer timeout hanging up through it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcsCallControl } from '../../src/adapters/acs/call-control.js';
import { createCallAutomationClient } from '../../src/wiring/clients.js';
import { isVoiceError } from '../../src/domain/errors.js';
import type { AnswerRequest } from '../../src/domain/ports.js';
import { answerOne, metricValue, startEdgeHarness, startSimAcs, type SimAcs } from '../support/edge-harness.js';

const request = (ctx: string): AnswerRequest => ({
  incomingCallContext: ctx,
  callbackUrl: 'http://127.0.0.1:1/api/callbacks?callId=c&secret=s',
  mediaTransportUrl: 'ws://127.0.0.1:1/ws/media?callId=c&secret=s',
  transcriptionTransportUrl: 'ws://127.0.0.1:1/ws/transcription?callId=c&secret=s',
  audioFormat: 'pcm24KMono',
  channels: 'unmixed',
  transcriptionLocale: 'en-GB',
  operationContext: 'c',
});

describe('AcsCallControl over the SDK', () => {
  let acs: SimAcs;
  const control = (maxRetries: number) =>
    new AcsCallControl(createCallAutomationClient({ connectionString: acs.connectionString, endpoint: undefined, maxRetries, retryDelayMs: 5 })!, {
      requestTimeoutMs: 5000,
    });
  beforeAll(async () => {
    acs = await startSimAcs();
  });
  afterAll(async () => {
    await acs.close();
  });

  it('answers with the requested media and transcription options, then hangs up for everyone', async () => {
    const c = control(0);
    const res = await c.answer(request('ctx-1'));
    expect(res.callConnectionId).toBe(acs.answers.at(-1)?.callConnectionId);
    // The answer response's callConnectionProperties: the call ACS offered.
    expect(res.serverCallId).toMatch(/^srv-/);
    expect(res.serverCallId).toBe(acs.call(res.callConnectionId)?.serverCallId);
    const sent = acs.answers.at(-1)?.body;
    expect(sent?.mediaStreamingOptions).toMatchObject({ audioFormat: 'pcm24KMono', audioChannelType: 'unmixed' });
    expect(sent?.transcriptionOptions).toMatchObject({ locale: 'en-GB', transportUrl: 'ws://127.0.0.1:1/ws/transcription?callId=c&secret=s' });
    await c.hangUp(res.callConnectionId, 'c');
    expect(acs.terminated).toContain(res.callConnectionId);
    expect(acs.rejected).toEqual([]);
  });

  it('treats hanging up a call that is already gone (404) as success', async () => {
    await expect(control(0).hangUp('no-such-call', 'c')).resolves.toBeUndefined();
  });

  it('surfaces a 503 as CALL_CONTROL_TRANSIENT once the retries are spent', async () => {
    acs.failNext(1, 503);
    const err = await control(0).answer(request('ctx-2')).catch((e: unknown) => e);
    expect(isVoiceError(err, 'CALL_CONTROL_TRANSIENT')).toBe(true);
  });

  it('retries transient failures with the SDK retry policy', async () => {
    const before = acs.answers.length;
    acs.failNext(2, 503);
    const res = await control(3).answer(request('ctx-3'));
    expect(acs.answers.length).toBe(before + 1);
    expect(res.callConnectionId).toBeTruthy();
  });

  it('surfaces a 400 as CALL_CONTROL (not transient)', async () => {
    acs.failNext(1, 400);
    const err = await control(3).answer(request('ctx-4')).catch((e: unknown) => e);
    expect(isVoiceError(err, 'CALL_CONTROL')).toBe(true);
  });
});

describe('answer timeout in a worker', () => {
  it('no CallConnected in time → hangs up through ACS and finalizes once with timeout', async () => {
    const h = await startEdgeHarness({ CALL_ANSWER_TIMEOUT_MS: '200' });
    try {
      const outcomes: string[] = [];
      h.worker.edge.onFinalize(async (_call, outcome) => void outcomes.push(outcome));
      const call = await answerOne(h);
      for (let i = 0; i < 300 && outcomes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await h.worker.edge.supervisor.settled();
      expect(outcomes).toEqual(['timeout']);
      expect(h.acs.terminated).toEqual([call.callConnectionId]);
      expect(h.worker.calls.get(call.callId)).toBeUndefined();
      expect(await metricValue(h.worker, 'voice_call_timeouts_total', { kind: 'answer' })).toBe(1);
      expect((await h.worker.state.sessions.loadSession(call.callId))?.phase).toBe('ended');
      expect(await h.worker.edge.resolveCall(call.callId)).toBeNull();
    } finally {
      await h.close();
    }
  });
});
