// TranscriptionFailed 8522 (no Cognitive Services endpoint, the documented Call Automation code) on a
// live call through the real worker: the call is ended politely and counted, not left with an agent
// that never hears the caller.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOne, metricValue, postJson, startEdgeHarness, type EdgeHarness } from '../support/edge-harness.js';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/acs/callback-events.json', import.meta.url), 'utf8')) as { name: string; raw: Record<string, unknown> }[];

describe('TranscriptionFailed 8522 on a live call', () => {
  let h: EdgeHarness;
  beforeAll(async () => {
    h = await startEdgeHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('hangs up for everyone, finalizes as failed and counts it', async () => {
    const call = await answerOne(h);
    const raw = fixtures.find((f) => f.name.startsWith('TranscriptionFailed 8522'))?.raw as Record<string, unknown>;
    const data = { ...(raw.data as Record<string, unknown>), callConnectionId: call.callConnectionId };
    const event = { ...raw, id: 'tf-1', source: `calling/callConnections/${call.callConnectionId}`, subject: `calling/callConnections/${call.callConnectionId}`, data };
    const res = await postJson(call.callbackUrl, [event], { authorization: `Bearer ${await h.jwks.token()}` });
    expect(res.status).toBe(200);
    for (let i = 0; i < 500 && !h.acs.terminated.includes(call.callConnectionId); i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.acs.terminated).toContain(call.callConnectionId);
    expect(await metricValue(h.worker, 'voice_call_stream_failures_total', { type: 'TranscriptionFailed', decision: 'fatal' })).toBe(1);
    for (let i = 0; i < 200 && h.worker.calls.get(call.callId); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await metricValue(h.worker, 'voice_calls_ended_total', { outcome: 'failed' })).toBe(1);
  });
});
