// One simulated call from offer to hang-up: delivers the IncomingCall, waits for the worker's answer,
// sends the callbacks ACS would send, opens the media stream, runs the scenario steps and records
// what happened. It is also the CallSession the REST operations act on and the ScenarioContext.
import { randomUUID } from 'node:crypto';
import type { CallSession } from './call-control.js';
import { deliverIncomingCall } from './event-grid.js';
import { applyMediaOperation } from './media-operation.js';
import { garbageMessages } from './media-messages.js';
import type { RunnerDeps } from './runner-deps.js';
import { NO_GREETING_WAIT, SCENARIOS, ScenarioFailure, type ScenarioContext } from './scenarios.js';
import { MAX_CALLER_TURNS, acsUserIdentifier, newSimCall, phoneIdentifier, type CallerTurnRecord, type SimCall } from './sim-call.js';
import { RECONNECT_PAUSE_MS, SimStreams } from './sim-streams.js';
import { TransferDesk, type TransferAnswer } from './sim-transfer.js';

/** How long the caller waits for a greeting, the silence that ends it, and the most it listens. */
const GREETING_WAIT_MS = 1500;
const GREETING_QUIET_MS = 400;
const GREETING_MAX_MS = 10_000;

export type { RunnerDeps } from './runner-deps.js';

const ANSWER_TIMEOUT_MS = 15_000;
const MEDIA_TIMEOUT_MS = 10_000;

export class CallRunner implements CallSession, ScenarioContext {
  readonly call: SimCall;
  private ending = false;
  private readonly answeredP: Promise<void>;
  private answeredResolve!: () => void;
  private mediaReady!: (err?: Error) => void;
  private readonly mediaP: Promise<Error | undefined>;
  private endedResolve!: () => void;
  private readonly endedP: Promise<void>;
  private readonly plays = new Set<NodeJS.Timeout>();
  private readonly streams: SimStreams;
  private readonly transfers: TransferDesk;
  private readonly placed: boolean;

  constructor(
    private readonly deps: RunnerDeps,
    index: number,
    readonly steps: readonly string[],
    /** An outbound call the worker placed (createCall, outbound-calls.ts): answered by this callee; no IncomingCall. */
    placed?: SimCall,
  ) {
    this.placed = placed !== undefined;
    const now = performance.now();
    const pstn = index % 2 === 0;
    this.call = placed ?? newSimCall(
      {
        index,
        scenario: steps.join('+'),
        incomingCallContext: Buffer.from(JSON.stringify({ v: 1, n: randomUUID(), r: deps.resourceId, i: index, s: randomUUID() })).toString('base64url'),
        contextExpiresAt: now + deps.contextTtlMs,
        serverCallId: Buffer.from(`sim-server-call-${randomUUID()}`).toString('base64url'),
        correlationId: randomUUID(),
        caller: pstn ? phoneIdentifier(`+1425555${String(index % 10_000).padStart(4, '0')}`) : acsUserIdentifier(`8:acs:${deps.resourceId}_${randomUUID()}`),
        callee: phoneIdentifier(deps.calledNumbers?.[index % deps.calledNumbers.length] ?? '+18005550100'),
        offeredAt: now,
      },
      { captureOutbound: deps.captureOutbound === true },
    );
    this.answeredP = new Promise((r) => (this.answeredResolve = r));
    this.mediaP = new Promise((r) => (this.mediaReady = r));
    this.endedP = new Promise((r) => (this.endedResolve = r));
    this.transfers = new TransferDesk(this.call);
    this.streams = new SimStreams({
      call: this.call,
      deps,
      steps,
      ended: () => this.ended,
      ending: () => this.ending,
      fail: (cause) => this.fail(cause),
      end: (by) => this.end(by),
    });
  }

  get ended(): boolean {
    return this.call.state === 'disconnected';
  }

  get utteranceCount(): number {
    return this.streams.voice?.utterances.length ?? 0;
  }

  private fail(cause: string): void {
    this.call.failure ??= cause;
  }

  /** Runs the whole call; never rejects (failures are recorded on the call). */
  async run(): Promise<void> {
    const { deps, call } = this;
    if (!this.placed) deps.control.offer(this);
    try {
      if (this.placed) {
        // The callee picks up: CallConnected and the media stream, exactly as after an answer.
        setImmediate(() => this.answered());
      } else {
        const redeliver = Math.random() < deps.duplicateRate;
        const r = await deliverIncomingCall(deps.target, call, deps.resourceId, redeliver, undefined, deps.fastRetry === true);
        if (r.status < 200 || r.status >= 300) return this.fail(`incoming-call-http-${r.status}`);
      }
      if (!(await this.within(this.answeredP, ANSWER_TIMEOUT_MS))) return this.fail('answer-timeout');
      if (call.rejectedWith !== undefined) return this.fail(`declined-${call.rejectedWith}`);
      if (call.answeredAt !== undefined) deps.stats.answerMs.push(call.answeredAt);
      const mediaErr = await Promise.race([this.mediaP, sleep(MEDIA_TIMEOUT_MS).then(() => new Error('media-timeout'))]);
      // Without media the call goes on (scenarios that need it fail with 'no-media'); a failed stream ends it.
      if (mediaErr && mediaErr.message !== 'media-not-requested') {
        this.fail(mediaErr.message.startsWith('media-') ? mediaErr.message : 'media-connect-failed');
        if (!this.ended) this.end('caller');
        return;
      }
      // Like a person, the caller lets the agent's greeting finish before speaking (if one comes).
      if (!this.ended && !NO_GREETING_WAIT.has(this.steps[0] ?? '')) {
        const greeting = await this.waitAgentAudio(0, GREETING_WAIT_MS);
        if (greeting !== undefined) await this.waitAgentQuiet(GREETING_QUIET_MS, GREETING_MAX_MS);
      }
      for (const step of this.steps) {
        if (this.ended) break;
        await (SCENARIOS[step] as (c: ScenarioContext) => Promise<void>)(this);
      }
      const holdUntil = call.offeredAt + deps.durationMs;
      if (!this.ended && performance.now() < holdUntil) await this.within(this.endedP, holdUntil - performance.now());
      if (!this.ended) await this.hangUp();
    } catch (err) {
      this.fail(err instanceof ScenarioFailure ? err.reason : `error: ${(err as Error).message}`);
      if (!this.ended) this.end('caller');
    } finally {
      if (!this.ended && call.state !== 'offered') this.end('caller');
      await deps.callbacks.drained(call);
      if (call.firstAgentAudioAt !== undefined && call.answeredAt !== undefined) deps.stats.firstAgentAudioMs.push(call.firstAgentAudioAt - call.answeredAt);
      if (call.callbacks.some((c) => c.status < 200 || c.status >= 300)) this.fail('callback-rejected');
      if (call.violations.length > 0) this.fail('protocol-violation');
      this.streams.link?.close();
      for (const t of this.plays) clearTimeout(t);
      this.transfers.dispose();
      deps.control.forget(this);
    }
  }

  private async within(p: Promise<unknown>, ms: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
    const ok = await Promise.race([p.then(() => true), timeout]);
    clearTimeout(t);
    return ok;
  }

  // ---- CallSession: what the worker's REST calls do ----

  rejected(): void {
    this.call.endedAt = performance.now() - this.call.offeredAt;
    this.answeredResolve();
    this.endedResolve();
  }

  answered(): void {
    const { call, deps } = this;
    call.state = 'connected';
    void deps.callbacks.send(call, 'CallConnected', {}, call.answer?.operationContext);
    this.answeredResolve();
    const media = call.answer?.mediaStreamingOptions;
    if (!media || media.startMediaStreaming === false) return this.mediaReady(new Error('media-not-requested'));
    this.streams.openMedia(false).then(
      () => this.mediaReady(),
      () => this.mediaReady(new Error('media-connect-failed')),
    );
  }

  hungUp(_how: 'terminate' | 'delete'): void {
    this.end('worker');
  }

  mediaOperation(operation: string, body: Record<string, unknown>): void {
    applyMediaOperation(
      {
        call: this.call,
        deps: this.deps,
        plays: this.plays,
        ended: () => this.ended,
        link: () => this.streams.link,
        openMedia: (reconnect, details, ctx) => this.streams.openMedia(reconnect, details, ctx),
        streamBack: () => this.streams.streamBack(),
      },
      operation,
      body,
    );
  }

  transferRequested(body: Record<string, unknown>): void {
    this.transfers.requested(body, (type, data, ctx, result) => this.deps.callbacks.send(this.call, type, data, ctx, result), () => this.end('transfer'));
  }

  /** Ends the call once: CallDisconnected, media closed, waits released. */
  private end(by: 'caller' | 'worker' | 'transfer'): void {
    if (this.ending) return;
    this.ending = true;
    const { call, deps } = this;
    call.disconnectedBy = by;
    call.endedAt = performance.now() - call.offeredAt;
    void deps.callbacks.send(call, 'CallDisconnected', {}, undefined, { code: 200, subCode: by === 'caller' ? 7000 : 0, message: by === 'caller' ? 'The conversation has ended.' : by === 'transfer' ? 'The call was transferred.' : 'Call terminated.' });
    call.state = 'disconnected';
    for (const t of this.plays) clearTimeout(t);
    this.plays.clear();
    this.streams.clearDeadAir();
    this.streams.link?.cancelWaits();
    this.streams.link?.close(1000);
    this.endedResolve();
  }

  // ---- ScenarioContext ----

  async say(i: number): Promise<{ onsetAt: number; finalAt: number }> {
    const s = this.startSaying(i);
    const [onsetAt, finalAt] = await Promise.all([s.onsetAt, s.done]);
    return { onsetAt, finalAt };
  }

  startSaying(i: number): { onsetAt: Promise<number>; done: Promise<number> } {
    const u = this.streams.voice?.utterances[i];
    if (!u || !this.streams.link || this.ended) throw new ScenarioFailure(this.ended ? 'ended-by-worker' : 'no-media');
    const s = this.streams.link.say(u);
    const { call } = this;
    const turns = (call.callerTurns ??= []);
    if (turns.length < MAX_CALLER_TURNS) {
      const rec: CallerTurnRecord = { utterance: i, onsetAt: undefined, finalAt: undefined };
      turns.push(rec);
      void s.onsetAt.then((t) => (rec.onsetAt = t - call.offeredAt));
      // -1: not heard (the stream was lost mid-utterance): not a turn the worker could have archived.
      void s.done.then((t) => {
        if (t >= 0) rec.finalAt = t - call.offeredAt;
      });
    }
    return s;
  }

  startBackchannel(): { onsetAt: Promise<number>; done: Promise<number> } {
    const u = this.streams.voice?.backchannel;
    if (!u || !this.streams.link || this.ended) throw new ScenarioFailure(this.ended ? 'ended-by-worker' : 'no-media');
    return this.streams.link.say(u, false);
  }

  waitAgentAudio(since: number, timeoutMs: number): Promise<number | undefined> {
    if (!this.streams.link || this.ended || !this.streams.link.isOpen) return Promise.resolve(undefined);
    return this.streams.link.waitAgentAudio(since, timeoutMs);
  }

  waitStopAudio(since: number, timeoutMs: number): Promise<number | undefined> {
    if (!this.streams.link || this.ended) return Promise.resolve(undefined);
    return this.streams.link.waitStopAudio(since, timeoutMs);
  }

  async waitAgentQuiet(quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.ended && this.streams.link && performance.now() < deadline) {
      const idle = performance.now() - this.streams.link.lastAgentAudioAt;
      if (idle >= quietMs) return;
      await sleep(Math.max(10, quietMs - idle));
    }
  }

  agentTalking(): boolean {
    return this.streams.link?.agentTalking ?? false;
  }

  async dtmf(tones: string): Promise<number> {
    if (!this.streams.link || this.ended) throw new ScenarioFailure('no-media');
    if (this.call.answer?.mediaStreamingOptions?.enableDtmfTones !== true) throw new ScenarioFailure('dtmf-not-enabled');
    await this.streams.link.sendDtmf(tones);
    return performance.now();
  }

  async hangUp(): Promise<void> {
    this.end('caller');
  }

  async reconnectMedia(): Promise<void> {
    if (!this.streams.link || this.ended) throw new ScenarioFailure('no-media');
    this.streams.link.close(1006, true); // a drop from the simulator's side: not reported as unexpected
    await sleep(RECONNECT_PAUSE_MS);
    if (this.ended) return;
    try {
      await this.streams.openMedia(true);
    } catch {
      throw new ScenarioFailure('media-reconnect-failed');
    }
  }

  async injectCallback(type: string, data: Record<string, unknown>, result: { code: number; subCode: number; message: string }): Promise<void> {
    await this.deps.callbacks.send(this.call, type, data, undefined, result);
  }

  sendAgentTranscript(words: readonly string[]): void {
    if (!this.streams.link || this.ended) throw new ScenarioFailure('no-media');
    this.streams.link.sendTranscriptAs(words, `8:acs:${this.deps.resourceId}_callautomation`);
  }

  /** Drops the media stream (ACS side) without reconnecting. */
  dropMedia(): void {
    this.streams.link?.close(1006, true);
  }

  async reopenMedia(): Promise<void> {
    if (this.ended) return;
    try {
      await this.streams.openMedia(true);
    } catch {
      throw new ScenarioFailure('media-reconnect-failed');
    }
  }

  answerTransfers(answer: TransferAnswer): void {
    this.transfers.answer = answer;
  }

  waitTransfer(ms: number): Promise<number | undefined> {
    return this.transfers.wait(ms);
  }

  waitEnded(ms: number): Promise<boolean> {
    return this.within(this.endedP, ms);
  }

  sendGarbage(): void {
    this.streams.link?.sendRaw(garbageMessages(new Date().toISOString()));
  }

  mediaOpen(): boolean {
    return this.streams.link?.isOpen ?? false;
  }

  streamGeneration(): number {
    return this.streams.epoch;
  }

  async waitStreams(ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (!this.ended && !this.streams.streamsUp() && performance.now() < until) await sleep(50);
    return this.streams.streamsUp();
  }

  sleep(ms: number): Promise<void> {
    return Promise.race([sleep(ms), this.endedP]);
  }

  recordTurn(ms: number): void {
    this.deps.stats.turnMs.push(ms);
  }

  recordBargeIn(ms: number): void {
    this.deps.stats.bargeInMs.push(ms);
  }

  recordResume(ms: number): void {
    this.deps.stats.resumeMs.push(ms);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
