// A live call through the real worker (the simulator's Call Automation server + JWKS) fed the messages the ACS docs show, not the
// ones our simulator used to send: transcription on its own socket (/ws/transcription, the
// transcriptionOptions.transportUrl the worker gives), the documented TranscriptionData without
// durations, a transcript of the agent's own leg, and DTMF tone names.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { answerOne, metricValue, startEdgeHarness, type EdgeHarness, type AnsweredCall } from '../support/edge-harness.js';

interface MediaFixture {
  readonly name: string;
  readonly raw?: unknown;
  readonly rawText?: string;
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/acs/media-messages.json', import.meta.url), 'utf8')) as MediaFixture[];
const fixture = (prefix: string): string => {
  const f = corpus.find((x) => x.name.startsWith(prefix));
  if (!f) throw new Error(`no fixture ${prefix}`);
  return f.rawText ?? JSON.stringify(f.raw);
};

const CALLER = '4:+15550001234';
const AGENT_LEG = '8:acs:00000000-0000-0000-0000-000000000000_callautomation';

const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

async function open(h: EdgeHarness, url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${await h.jwks.token()}` } });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return ws;
}

function transcript(text: string, participantRawID: string): string {
  // The documented shape: no duration, words without duration.
  return JSON.stringify({
    kind: 'TranscriptionData',
    transcriptionData: { text, format: 'display', confidence: 0.9, offset: 2516998782481234400, words: [{ text, offset: 2516998782481234400 }], participantRawID, resultStatus: 'Final' },
  });
}

describe('a call fed the documented ACS media messages', () => {
  let h: EdgeHarness;
  let call: AnsweredCall;
  let audio: WebSocket;
  let transcription: WebSocket;
  let framesIn = 0;
  let audioClosed = false;

  const history = async () => (await h.worker.state.conversations.getState(call.callId)).history;

  beforeAll(async () => {
    h = await startEdgeHarness({ ACS_COGNITIVE_SERVICES_ENDPOINT: 'https://voice-ai.cognitiveservices.azure.com/' });
    call = await answerOne(h);
    const answer = h.acs.answers.find((a) => a.callConnectionId === call.callConnectionId);
    const mediaUrl = String(answer?.body.mediaStreamingOptions['transportUrl']);
    const transcriptionUrl = String(answer?.body.transcriptionOptions?.['transportUrl']);
    expect(new URL(transcriptionUrl).pathname).toBe('/ws/transcription');
    audio = await open(h, mediaUrl);
    audio.on('message', () => framesIn++);
    audio.on('close', () => (audioClosed = true));
    audio.send(fixture('AudioMetadata (audio streaming'));
    // Real-time transcription is its own subscription: its own socket and TranscriptionMetadata first.
    transcription = await open(h, transcriptionUrl);
    transcription.send(fixture('TranscriptionMetadata'));
    await until(() => h.worker.calls.get(call.callId)?.phase === 'streaming', 'streaming');
  });
  afterAll(async () => {
    audio?.close();
    transcription?.close();
    await h.close();
  });

  it('a second socket (transcription) does not replace the audio socket, and the documented TranscriptionData (no durations) on it gets a turn and a spoken reply', async () => {
    await new Promise((r) => setTimeout(r, 300));
    const before = framesIn;
    // The docs' sample, spoken by this call's caller (its participantRawID set to the caller's raw id).
    transcription.send(fixture('TranscriptionData (real-time transcription sample').replace(/"participantRawID":"[^"]*"/, `"participantRawID":"${CALLER}"`));
    await until(async () => (await history()).some((t) => t.speaker === 'user' && t.text === 'Testing transcription.'), 'user turn');
    await until(() => framesIn > before, 'agent audio on the audio socket');
    expect(audioClosed).toBe(false);
    expect(h.worker.calls.get(call.callId)?.phase).toBe('streaming');
  });

  it("ignores and counts a transcript of the agent's own leg; the caller's next words still get a turn", async () => {
    const ignoredBefore = await metricValue(h.worker, 'voice_media_ignored_participant_total', { kind: 'transcript' });
    transcription.send(transcript('this is the agent talking to itself', AGENT_LEG));
    transcription.send(transcript('what is my balance', CALLER));
    await until(async () => (await history()).some((t) => t.speaker === 'user' && t.text === 'what is my balance'), 'caller turn');
    expect((await history()).some((t) => t.text === 'this is the agent talking to itself')).toBe(false);
    expect(await metricValue(h.worker, 'voice_media_ignored_participant_total', { kind: 'transcript' })).toBe(ignoredBefore + 1);
  });

  it('DTMF tone names (one, two, three, four, pound) complete an input like 1234#', async () => {
    for (const tone of ['one', 'two', 'three', 'four', 'pound']) audio.send(JSON.stringify({ kind: 'DtmfData', dtmfData: { data: tone } }));
    await until(async () => (await history()).some((t) => t.speaker === 'user' && t.kind === 'dtmf'), 'dtmf turn');
    const turn = (await history()).find((t) => t.kind === 'dtmf');
    expect(turn?.text).toBe('[dtmf ****]');
  });

  it('a replacement transcription socket takes over without touching the audio socket', async () => {
    const again = await open(h, String(h.acs.answers.find((a) => a.callConnectionId === call.callConnectionId)?.body.transcriptionOptions?.['transportUrl']));
    const closed = new Promise<number>((r) => transcription.once('close', (code) => r(code)));
    expect(await closed).toBe(1000);
    again.send(fixture('TranscriptionMetadata'));
    again.send(transcript('and my address', CALLER));
    await until(async () => (await history()).some((t) => t.text === 'and my address'), 'turn over the replacement socket');
    expect(audioClosed).toBe(false);
    transcription = again;
  });
});
