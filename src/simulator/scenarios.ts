// What the simulated caller does once media is up. Each scenario is a small script over a
// ScenarioContext; scenarios compose: "qa+dtmf" runs both in one call, "qa,barge-in" mixes them
// across calls (call i gets the i-th entry, round robin).

export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface ScenarioContext {
  readonly ended: boolean;
  readonly utteranceCount: number;
  /** Speaks utterance i; resolves once its Final transcript is sent. Times are performance.now(). */
  say(i: number): Promise<{ onsetAt: number; finalAt: number }>;
  startSaying(i: number): { onsetAt: Promise<number>; done: Promise<number> };
  /** Says the backchannel ("Uh-huh."): a sound with no transcript. */
  startBackchannel(): { onsetAt: Promise<number>; done: Promise<number> };
  waitAgentAudio(since: number, timeoutMs: number): Promise<number | undefined>;
  waitAgentQuiet(quietMs: number, timeoutMs: number): Promise<void>;
  waitStopAudio(since: number, timeoutMs: number): Promise<number | undefined>;
  agentTalking(): boolean;
  dtmf(tones: string): Promise<number>;
  hangUp(): Promise<void>;
  reconnectMedia(): Promise<void>;
  sendGarbage(): void;
  /** Posts a Call Automation event for this call, as ACS would. */
  injectCallback(type: string, data: Record<string, unknown>, result: { code: number; subCode: number; message: string }): Promise<void>;
  /** A Final transcript tagged with the agent's own participant (its leg transcribed). */
  sendAgentTranscript(words: readonly string[]): void;
  dropMedia(): void;
  /** Re-opens the media stream after dropMedia (reported as streamConnectionReestablished). */
  reopenMedia(): Promise<void>;
  /** How the simulated ACS answers the worker's transfer requests (sim-transfer.ts). */
  answerTransfers(answer: 'accept' | 'fail'): void;
  /** The time (performance.now()) of the next transfer request; undefined after ms. */
  waitTransfer(ms: number): Promise<number | undefined>;
  /** True when the call ended (by either side) within ms. */
  waitEnded(ms: number): Promise<boolean>;
  mediaOpen(): boolean;
  /** Changes whenever a stream of the call is lost or re-established. */
  streamGeneration(): number;
  /** Resolves true once the call's streams are up (false after ms, or when the call ended). */
  waitStreams(ms: number): Promise<boolean>;
  sleep(ms: number): Promise<void>;
  recordTurn(ms: number): void;
  recordBargeIn(ms: number): void;
  /** A pause without words: stopAudio → the agent's audio again. */
  recordResume(ms: number): void;
}

export type Scenario = (ctx: ScenarioContext) => Promise<void>;

export const REPLY_TIMEOUT_MS = 15_000;
/** Scenarios whose caller does not wait for the greeting to finish (keys 0 at once, or says nothing). */
export const NO_GREETING_WAIT: ReadonlySet<string> = new Set(['silence', 'transfer', 'transfer-fail', 'listen']);
const QUIET_MS = 400;
const BARGE_AFTER_MS = 300;
/** The agent must be back this soon after a backchannel's pause (~600 ms without words, plus slack). */
const RESUME_WITHIN_MS = 2_000;

function fail(cause: string): never {
  throw new ScenarioFailure(cause);
}

async function expectReply(ctx: ScenarioContext, since: number): Promise<number> {
  const t = await ctx.waitAgentAudio(since, REPLY_TIMEOUT_MS);
  if (t === undefined) fail(ctx.ended ? 'ended-by-worker' : 'no-agent-reply');
  return t;
}

/** How long a caller on a line whose stream dropped waits for it before hanging up, and how often they repeat. */
const STREAM_WAIT_MS = 20_000;
const REPEATS = 2;

/**
 * One caller turn: speak, wait for the agent's first frame, let the agent finish. When a stream of
 * the call was lost meanwhile (the reply never came, or the words were not heard), the caller waits
 * for the line to come back and says it again, as a person would.
 */
async function turn(ctx: ScenarioContext, i: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (!(await ctx.waitStreams(STREAM_WAIT_MS))) fail(ctx.ended ? 'ended-by-worker' : 'media-lost');
    const generation = ctx.streamGeneration();
    const { finalAt } = await ctx.say(i);
    if (ctx.ended) fail('ended-by-worker');
    const broke = () => ctx.streamGeneration() !== generation && attempt < REPEATS;
    if (finalAt < 0) {
      if (broke()) continue;
      fail('not-heard');
    }
    const first = await ctx.waitAgentAudio(finalAt, REPLY_TIMEOUT_MS);
    if (first === undefined) {
      if (!ctx.ended && broke()) continue;
      fail(ctx.ended ? 'ended-by-worker' : 'no-agent-reply');
    }
    ctx.recordTurn(Math.max(0, first - finalAt));
    await ctx.waitAgentQuiet(QUIET_MS, 60_000);
    return;
  }
}

/** How much of the agent's apology the transfer-fail caller hears before hanging up. */
const APOLOGY_HEARD_MS = 1_200;

/** Keys 0#, hears the transferring line, and waits for the transfer request (its time). */
async function askForAgent(ctx: ScenarioContext): Promise<number> {
  const sentAt = await ctx.dtmf('0#');
  const request = ctx.waitTransfer(REPLY_TIMEOUT_MS);
  await expectReply(ctx, sentAt);
  const at = await request;
  if (at === undefined) fail(ctx.ended ? 'ended-by-worker' : 'no-transfer-request');
  return at;
}

const streaming = (details: string) => ({ mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingFailed', mediaStreamingStatusDetails: details } });

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  async qa(ctx) {
    for (let i = 0; i < 3; i++) await turn(ctx, i);
  },
  // The shortest whole call: the caller says goodbye at once, the agent answers and hangs up (qa's last turn).
  async goodbye(ctx) {
    await turn(ctx, 2);
  },
  async 'barge-in'(ctx) {
    const { finalAt } = await ctx.say(0);
    const first = await expectReply(ctx, finalAt);
    ctx.recordTurn(Math.max(0, first - finalAt));
    await ctx.sleep(Math.max(0, BARGE_AFTER_MS - (performance.now() - first)));
    if (!ctx.agentTalking()) fail('reply-ended-before-barge-in');
    const speech = ctx.startSaying(ctx.utteranceCount - 1);
    const onset = await speech.onsetAt;
    const stop = await ctx.waitStopAudio(onset, 5_000);
    if (stop === undefined) fail(ctx.ended ? 'ended-by-worker' : 'no-stop-audio');
    ctx.recordBargeIn(stop - onset);
    await speech.done;
    await ctx.waitAgentQuiet(QUIET_MS, 60_000);
  },
  // The line returns the agent's own audio at -25 dB (the runner turns the echo on for calls with
  // this step, from the first frame): the caller waits as in qa, and the agent must never stop itself.
  async echo(ctx) {
    for (let i = 0; i < 3; i++) await turn(ctx, i);
  },
  // "Uh-huh" while the agent answers, and no words: the agent may pause (stopAudio) but must go on
  // with the same reply, from where it stopped, and finish it.
  async backchannel(ctx) {
    const { finalAt } = await ctx.say(0);
    const first = await expectReply(ctx, finalAt);
    ctx.recordTurn(Math.max(0, first - finalAt));
    await ctx.sleep(Math.max(0, BARGE_AFTER_MS - (performance.now() - first)));
    if (!ctx.agentTalking()) fail('reply-ended-before-backchannel');
    const sound = ctx.startBackchannel();
    const onset = await sound.onsetAt;
    const stop = await ctx.waitStopAudio(onset, 2_000);
    if (stop !== undefined) {
      const resumed = await ctx.waitAgentAudio(stop + 1, RESUME_WITHIN_MS);
      if (resumed === undefined) fail(ctx.ended ? 'ended-by-worker' : 'reply-dropped-after-backchannel');
      ctx.recordResume(resumed - stop);
    }
    await sound.done;
    await ctx.waitAgentQuiet(QUIET_MS, 60_000);
  },
  async dtmf(ctx) {
    const sentAt = await ctx.dtmf('1234#');
    await expectReply(ctx, sentAt);
    await ctx.waitAgentQuiet(QUIET_MS, 60_000);
  },
  async 'hangup-mid-reply'(ctx) {
    const { finalAt } = await ctx.say(0);
    const first = await expectReply(ctx, finalAt);
    ctx.recordTurn(Math.max(0, first - finalAt));
    await ctx.sleep(200);
    await ctx.hangUp();
  },
  async reconnect(ctx) {
    await turn(ctx, 0);
    await ctx.reconnectMedia();
    await turn(ctx, 1);
  },
  async silence(ctx) {
    await ctx.sleep(3_000);
  },
  // The callee of an outbound call hears the agent start speaking, then hangs up (short campaign runs).
  async listen(ctx) {
    if ((await ctx.waitAgentAudio(0, 5_000)) === undefined) fail(ctx.ended ? 'ended-by-worker' : 'no-agent-audio');
    await ctx.sleep(200);
  },
  // MediaStreamingFailed as ACS reports it (status details from the SDK's KnownMediaStreamingStatusDetails):
  // first an interruption the stream recovers from (the call must go on), then a fatal failure (the
  // worker must end the call itself).
  async 'media-failed'(ctx) {
    await turn(ctx, 0);
    ctx.dropMedia();
    await ctx.injectCallback('MediaStreamingFailed', streaming('streamConnectionInterrupted'), { code: 500, subCode: 8582, message: 'Media streaming connection interrupted.' });
    await ctx.sleep(300);
    if (ctx.ended) fail('ended-on-interruption');
    await ctx.reopenMedia();
    await turn(ctx, 1);
    ctx.dropMedia();
    await ctx.injectCallback('MediaStreamingFailed', streaming('streamConnectionUnsuccessful'), { code: 500, subCode: 8581, message: 'Media streaming failed to connect.' });
    if (!(await ctx.waitEnded(20_000))) fail('worker-kept-a-dead-call');
  },
  // A play the worker asked ACS for failed (PlayFailed, 8535): the call goes on.
  async 'play-failed'(ctx) {
    await turn(ctx, 0);
    await ctx.injectCallback('PlayFailed', { operationContext: 'sim-play' }, { code: 400, subCode: 8535, message: 'Action failed, file format is invalid.' });
    await ctx.sleep(300);
    if (ctx.ended) fail('ended-on-play-failed');
    await turn(ctx, 1);
  },
  // A recognize timed out (RecognizeFailed, 8510): the call goes on.
  async 'recognize-failed'(ctx) {
    await turn(ctx, 0);
    await ctx.injectCallback('RecognizeFailed', { operationContext: 'sim-recognize' }, { code: 400, subCode: 8510, message: 'Action failed, initial silence timeout reached.' });
    await ctx.sleep(300);
    if (ctx.ended) fail('ended-on-recognize-failed');
    await turn(ctx, 1);
  },
  // The agent's own leg transcribed: the worker must not answer itself.
  async 'agent-leg'(ctx) {
    const since = performance.now();
    ctx.sendAgentTranscript(['Hello,', 'how', 'can', 'I', 'help', 'you', 'today?']);
    if ((await ctx.waitAgentAudio(since + 50, 2_000)) !== undefined && !ctx.ended) fail('answered-its-own-leg');
    await turn(ctx, 0);
  },
  // The caller keys 0# at once ("press 0 for an agent", over the greeting): the agent says it is transferring, then asks ACS to transfer;
  // ACS accepts and our leg ends (CallTransferAccepted, CallDisconnected).
  async transfer(ctx) {
    ctx.answerTransfers('accept');
    await askForAgent(ctx);
    if (!(await ctx.waitEnded(5_000))) fail('not-transferred');
  },
  // The same, but the transfer fails (CallTransferFailed): the agent says so and the call goes on.
  async 'transfer-fail'(ctx) {
    ctx.answerTransfers('fail');
    const requestedAt = await askForAgent(ctx);
    await expectReply(ctx, requestedAt);
    // The caller hears the apology begin, then hangs up; the worker must not have ended the call.
    await ctx.sleep(APOLOGY_HEARD_MS);
    if (ctx.ended) fail('ended-on-transfer-failed');
  },
  async garbage(ctx) {
    await ctx.sleep(100);
    ctx.sendGarbage();
    await ctx.sleep(300);
    if (!ctx.mediaOpen()) fail('media-closed-on-garbage');
    await turn(ctx, 0);
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS);

/** "qa,barge-in" or ["qa", "dtmf+qa"] → one list of steps per mix entry. Throws on an unknown name. */
export function parseScenarios(spec: string | readonly string[]): string[][] {
  const entries = (typeof spec === 'string' ? [spec] : spec).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return [['qa']];
  return entries.map((e) => {
    const steps = e.split('+').map((s) => s.trim());
    for (const s of steps) if (!SCENARIOS[s]) throw new Error(`unknown scenario '${s}' (known: ${SCENARIO_NAMES.join(', ')})`);
    return steps;
  });
}
