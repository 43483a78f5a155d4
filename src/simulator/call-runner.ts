// One simulated call from offer to hang-up: delivers the IncomingCall, waits for the worker's answer,
// sends the callbacks ACS would send, opens the media stream, runs the scenario steps and records
// what happened. It is also the CallSession the REST operations act on and the ScenarioContext.
import { randomUUID } from 'node:crypto';
import type { CallbackSender } from './callbacks.js';
import type { CallControl, CallSession } from './call-control.js';
import type { CallerVoice } from './caller-audio.js';
import { deliverIncomingCall } from './event-grid.js';
import type { FrameClock } from './frame-clock.js';
import type { AudioChannels } from './frame-math.js';
import type { SimIdentity } from './identity.js';
import { MediaLink } from './media-link.js';
import { garbageMessages } from './media-messages.js';
import { NO_GREETING_WAIT, SCENARIOS, ScenarioFailure, type ScenarioContext } from './scenarios.js';
import { MAX_CALLER_TURNS, acsUserIdentifier, newSimCall, phoneIdentifier, type CallerTurnRecord, type SimCall } from './sim-call.js';
import type { SimStats } from './sim-stats.js';
import { TransferDesk, type TransferAnswer } from './sim-transfer.js';

/** How long the caller waits for a greeting, the silence that ends it, and the most it listens. */
const GREETING_WAIT_MS = 1500;
const GREETING_QUIET_MS = 400;
const GREETING_MAX_MS = 10_000;

export interface RunnerDeps {
  readonly control: CallControl;
  readonly callbacks: CallbackSender;
  readonly clock: FrameClock;
  readonly identity: SimIdentity;
  readonly stats: SimStats;
  readonly resourceId: string;
  readonly target: string;
  readonly voice: (sampleRate: number) => Promise<CallerVoice>;
  readonly channels: AudioChannels;
  readonly duplicateRate: number;
  readonly durationMs: number;
  readonly contextTtlMs: number;
  /** Keep the decoded outbound audio of every call (SimCall.outboundAudio, bounded). */
  readonly captureOutbound?: boolean;
  /** Event Grid retries 100x faster than documented (tests). */
  readonly fastRetry?: boolean;
  /**
   * What ACS does when the worker's end of a stream goes away without a close frame (its process
   * died): 'reconnect' re-opens it to the same transportUrl (streamConnectionReestablished), 'none'
   * reports the failure and waits for startMediaStreaming / startTranscription. The docs leave it open
   * (the SDK's status details name both streamConnectionInterrupted and streamConnectionReestablished).
   */
  readonly streamReconnect?: 'reconnect' | 'none';
  /** Numbers called, round robin by call index (default +18005550100). */
  readonly calledNumbers?: readonly string[];
}

const ANSWER_TIMEOUT_MS = 15_000;
const MEDIA_TIMEOUT_MS = 10_000;
const RECONNECT_PAUSE_MS = 300;
/** ACS's own re-establishment of a dropped stream: attempts, one second apart. */
const STREAM_RECONNECT_ATTEMPTS = 3;
/** The caller hangs up after this long on a line without a media stream. */
const DEAD_AIR_MS = 20_000;
const INTERRUPTED = { code: 500, subCode: 8582, message: 'Media streaming connection interrupted.' };
/** As ACS reports a stream it cannot (re)connect (MediaStreamingFailed, streamConnectionUnsuccessful). */
const UNSUCCESSFUL = { code: 500, subCode: 8603, message: 'Action failed, not able to establish websocket connection.' };
/** TranscriptionFailed when the transcription socket cannot be (re)connected ("Add real-time transcription", event codes). */
const TRANSCRIPTION_UNSUCCESSFUL = { code: 500, subCode: 8578, message: 'Action failed, not able to establish WebSocket connection.' };
/** The `echo` scenario's line: the agent's audio back at -25 dB (poor echo cancellation). */
const ECHO_DB = -25;

export class CallRunner implements CallSession, ScenarioContext {
  readonly call: SimCall;
  private link: MediaLink | undefined;
  private voice: CallerVoice | undefined;
  private ending = false;
  private readonly answeredP: Promise<void>;
  private answeredResolve!: () => void;
  private mediaReady!: (err?: Error) => void;
  private readonly mediaP: Promise<Error | undefined>;
  private endedResolve!: () => void;
  private readonly endedP: Promise<void>;
  private readonly plays = new Set<NodeJS.Timeout>();
  /** Bumped whenever a stream of the call is lost or re-established (the caller repeats what was not heard). */
  private streamEpoch = 0;
  private deadAir: NodeJS.Timeout | undefined;
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
  }

  get ended(): boolean {
    return this.call.state === 'disconnected';
  }

  get utteranceCount(): number {
    return this.voice?.utterances.length ?? 0;
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
      this.link?.close();
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
    this.openMedia(false).then(
      () => this.mediaReady(),
      () => this.mediaReady(new Error('media-connect-failed')),
    );
  }

  private async openMedia(reconnect: boolean, details: string = reconnect ? 'streamConnectionReestablished' : 'subscriptionStarted', ctx?: string): Promise<void> {
    const { call, deps } = this;
    const media = call.answer?.mediaStreamingOptions ?? {};
    const requested = call.answer?.transcriptionOptions;
    // ACS transcribes through the Azure AI services resource named in callIntelligenceOptions; without
    // it the transcription subscription fails with TranscriptionFailed (8522) and no result ever comes.
    const tr = requested && requested.startTranscription !== false && call.answer?.cognitiveServicesEndpoint ? requested : undefined;
    const rate = media.audioFormat === 'pcm24KMono' ? 24000 : 16000;
    this.voice ??= await deps.voice(rate);
    const link = new MediaLink(
      call,
      {
        url: String(media.transportUrl),
        participantRawId: media.audioChannelType === 'unmixed' || deps.channels === 'unmixed' ? call.caller.rawId : undefined,
        callerRawId: call.caller.rawId,
        transcription: tr ? { locale: typeof tr.locale === 'string' ? tr.locale : 'en-US', intermediate: tr.enableIntermediateResults === true } : undefined,
        transcriptionUrl: tr && typeof tr.transportUrl === 'string' ? tr.transportUrl : undefined,
        dtmf: media.enableDtmfTones === true,
        echoDb: this.steps.includes('echo') ? ECHO_DB : undefined,
      },
      this.voice,
      deps.clock,
      deps.identity,
      deps.stats,
    );
    link.onUnexpectedClose = (code) => this.mediaLost(code);
    link.onTranscriptionLost = (code) => this.transcriptionLost(link, code);
    const previous = this.link;
    // The transcription subscription is not the audio stream's: its socket, if still open, carries on.
    const keep = previous?.detachTranscription();
    previous?.close(1000);
    this.link = link;
    await link.connect(keep);
    if (this.ended) return link.close();
    this.streamBack();
    void deps.callbacks.send(call, 'MediaStreamingStarted', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingStarted', mediaStreamingStatusDetails: details } }, ctx);
    if (!reconnect && tr)
      void deps.callbacks.send(call, 'TranscriptionStarted', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStarted', transcriptionStatusDetails: 'subscriptionStarted' } });
    if (!reconnect && requested && requested.startTranscription !== false && !tr) {
      call.transcriptionFailed = true;
      void deps.callbacks.send(
        call,
        'TranscriptionFailed',
        { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'unspecifiedError' } },
        undefined,
        { code: 400, subCode: 8522, message: 'Action failed, Cognitive Services endpoint is not provided.' },
      );
    }
    if (!reconnect)
      void deps.callbacks.send(call, 'ParticipantsUpdated', { sequenceNumber: 1, participants: [{ identifier: call.caller, isMuted: false, isOnHold: false }] });
  }

  private mediaLost(code: number): void {
    if (this.ended || this.ending) return;
    if (code === 1006) return void this.streamInterrupted('media');
    // The worker closed the stream (a close frame). Give it a moment to hang up properly; otherwise the call failed.
    setTimeout(() => {
      if (this.ended) return;
      this.fail('media-closed-by-worker');
      this.end('caller');
    }, 2_000).unref();
  }

  private transcriptionLost(link: MediaLink, code: number): void {
    if (this.ended || this.ending || link !== this.link) return;
    if (code === 1006) return void this.streamInterrupted('transcription');
    // A close frame from the worker ends the subscription: the caller is no longer heard.
    void this.deps.callbacks.send(this.call, 'TranscriptionStopped', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStopped', transcriptionStatusDetails: 'subscriptionStopped' } });
  }

  /**
   * The worker's end of a stream went away without a close frame (its process died, its connection
   * broke). ACS reports the interruption; then, as `streamReconnect` says, it re-opens the stream to
   * the same transportUrl (an ingress sends it to a live replica) or waits for the worker to restart
   * it. A caller left on a dead line hangs up after DEAD_AIR_MS.
   */
  private async streamInterrupted(kind: 'media' | 'transcription'): Promise<void> {
    const { call, deps } = this;
    this.streamEpoch++;
    this.link?.cancelWaits(true);
    if (kind === 'media') {
      void deps.callbacks.send(call, 'MediaStreamingFailed', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingFailed', mediaStreamingStatusDetails: 'streamConnectionInterrupted' } }, undefined, INTERRUPTED);
    } else {
      void deps.callbacks.send(call, 'TranscriptionFailed', { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'streamConnectionInterrupted' } }, undefined, INTERRUPTED);
    }
    this.deadAir ??= setTimeout(() => {
      this.deadAir = undefined;
      if (this.ended || this.streamsUp()) return;
      this.fail('media-lost');
      this.end('caller');
    }, DEAD_AIR_MS);
    this.deadAir.unref();
    if ((deps.streamReconnect ?? 'reconnect') === 'none') return;
    for (let attempt = 1; attempt <= STREAM_RECONNECT_ATTEMPTS; attempt++) {
      await sleep(attempt === 1 ? RECONNECT_PAUSE_MS : 1000);
      if (this.ended || this.ending) return;
      try {
        if (kind === 'media') {
          if (this.link?.isOpen) return;
          await this.openMedia(true);
        } else {
          if (!this.link?.isOpen || this.link.transcriptionOpen) return;
          await this.link.openTranscription();
          this.streamBack();
          void deps.callbacks.send(call, 'TranscriptionStarted', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStarted', transcriptionStatusDetails: 'streamConnectionReestablished' } });
        }
        return;
      } catch {
        // the next attempt, or give up below
      }
    }
    if (this.ended || this.ending) return;
    if (kind === 'media')
      void deps.callbacks.send(call, 'MediaStreamingFailed', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingFailed', mediaStreamingStatusDetails: 'streamConnectionUnsuccessful' } }, undefined, UNSUCCESSFUL);
    else
      void deps.callbacks.send(call, 'TranscriptionFailed', { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'streamConnectionInterrupted' } }, undefined, TRANSCRIPTION_UNSUCCESSFUL);
  }

  private streamsUp(): boolean {
    return this.link !== undefined && this.link.isOpen && this.link.transcriptionOpen;
  }

  /** A stream came back: the caller carries on (and repeats what was not heard). */
  private streamBack(): void {
    this.streamEpoch++;
    if (this.deadAir && this.streamsUp()) {
      clearTimeout(this.deadAir);
      this.deadAir = undefined;
    }
  }

  hungUp(_how: 'terminate' | 'delete'): void {
    this.end('worker');
  }

  mediaOperation(operation: string, body: Record<string, unknown>): void {
    const { call, deps } = this;
    const ctx = typeof body.operationContext === 'string' ? body.operationContext : undefined;
    switch (operation) {
      case 'play': {
        void deps.callbacks.send(call, 'PlayStarted', {}, ctx);
        const sources = Array.isArray(body.playSources) ? (body.playSources as Record<string, unknown>[]) : [];
        const text = sources.map((s) => String((s.text as { text?: unknown } | undefined)?.text ?? '')).join(' ');
        const ms = Math.min(5_000, 200 + text.length * 40);
        const t = setTimeout(() => {
          this.plays.delete(t);
          if (!this.ended) void deps.callbacks.send(call, 'PlayCompleted', {}, ctx);
        }, ms);
        (t as NodeJS.Timeout & { opCtx?: string }).opCtx = ctx;
        this.plays.add(t);
        return;
      }
      case 'cancelAllMediaOperations':
        for (const t of this.plays) {
          clearTimeout(t);
          void deps.callbacks.send(call, 'PlayCanceled', {}, (t as NodeJS.Timeout & { opCtx?: string }).opCtx);
        }
        this.plays.clear();
        return;
      case 'startMediaStreaming':
        // A new subscription to the transportUrl given at answer time (the REST request carries only
        // operationContext / operationCallbackUri); MediaStreamingFailed if it cannot connect.
        if (!this.link?.isOpen)
          void this.openMedia(true, 'subscriptionStarted', ctx).catch(() =>
            deps.callbacks.send(call, 'MediaStreamingFailed', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingFailed', mediaStreamingStatusDetails: 'streamConnectionUnsuccessful' } }, ctx, UNSUCCESSFUL),
          );
        return;
      case 'stopMediaStreaming':
        this.link?.close();
        void deps.callbacks.send(call, 'MediaStreamingStopped', { mediaStreamingUpdate: { contentType: 'Audio', mediaStreamingStatus: 'mediaStreamingStopped', mediaStreamingStatusDetails: 'subscriptionStopped' } }, ctx);
        return;
      case 'startTranscription': {
        // With transcription on its own transportUrl, a new subscription opens a new socket to it.
        const link = this.link;
        const opened = link && link.isOpen && !link.transcriptionOpen ? link.openTranscription().then(() => this.streamBack()) : Promise.resolve();
        opened.then(
          () => void deps.callbacks.send(call, 'TranscriptionStarted', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStarted', transcriptionStatusDetails: 'subscriptionStarted' } }, ctx),
          () => void deps.callbacks.send(call, 'TranscriptionFailed', { transcriptionUpdate: { transcriptionStatus: 'transcriptionFailed', transcriptionStatusDetails: 'streamConnectionUnsuccessful' } }, ctx, TRANSCRIPTION_UNSUCCESSFUL),
        );
        return;
      }
      case 'stopTranscription':
        void deps.callbacks.send(call, 'TranscriptionStopped', { transcriptionUpdate: { transcriptionStatus: 'transcriptionStopped', transcriptionStatusDetails: 'subscriptionStopped' } }, ctx);
        return;
      case 'recognize': {
        const t = setTimeout(() => {
          this.plays.delete(t);
          if (!this.ended)
            void deps.callbacks.send(call, 'RecognizeCompleted', { recognitionType: 'dtmf', dtmfResult: { tones: ['one', 'two', 'three', 'four'], toneInfo: [] } }, ctx, { code: 200, subCode: 8531, message: 'Action completed, max digits received.' });
        }, 500);
        this.plays.add(t);
        return;
      }
      default:
        return;
    }
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
    if (this.deadAir) clearTimeout(this.deadAir);
    this.deadAir = undefined;
    this.link?.cancelWaits();
    this.link?.close(1000);
    this.endedResolve();
  }

  // ---- ScenarioContext ----

  async say(i: number): Promise<{ onsetAt: number; finalAt: number }> {
    const s = this.startSaying(i);
    const [onsetAt, finalAt] = await Promise.all([s.onsetAt, s.done]);
    return { onsetAt, finalAt };
  }

  startSaying(i: number): { onsetAt: Promise<number>; done: Promise<number> } {
    const u = this.voice?.utterances[i];
    if (!u || !this.link || this.ended) throw new ScenarioFailure(this.ended ? 'ended-by-worker' : 'no-media');
    const s = this.link.say(u);
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
    const u = this.voice?.backchannel;
    if (!u || !this.link || this.ended) throw new ScenarioFailure(this.ended ? 'ended-by-worker' : 'no-media');
    return this.link.say(u, false);
  }

  waitAgentAudio(since: number, timeoutMs: number): Promise<number | undefined> {
    if (!this.link || this.ended || !this.link.isOpen) return Promise.resolve(undefined);
    return this.link.waitAgentAudio(since, timeoutMs);
  }

  waitStopAudio(since: number, timeoutMs: number): Promise<number | undefined> {
    if (!this.link || this.ended) return Promise.resolve(undefined);
    return this.link.waitStopAudio(since, timeoutMs);
  }

  async waitAgentQuiet(quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.ended && this.link && performance.now() < deadline) {
      const idle = performance.now() - this.link.lastAgentAudioAt;
      if (idle >= quietMs) return;
      await sleep(Math.max(10, quietMs - idle));
    }
  }

  agentTalking(): boolean {
    return this.link?.agentTalking ?? false;
  }

  async dtmf(tones: string): Promise<number> {
    if (!this.link || this.ended) throw new ScenarioFailure('no-media');
    if (this.call.answer?.mediaStreamingOptions?.enableDtmfTones !== true) throw new ScenarioFailure('dtmf-not-enabled');
    await this.link.sendDtmf(tones);
    return performance.now();
  }

  async hangUp(): Promise<void> {
    this.end('caller');
  }

  async reconnectMedia(): Promise<void> {
    if (!this.link || this.ended) throw new ScenarioFailure('no-media');
    this.link.close(1006, true); // a drop from the simulator's side: not reported as unexpected
    await sleep(RECONNECT_PAUSE_MS);
    if (this.ended) return;
    try {
      await this.openMedia(true);
    } catch {
      throw new ScenarioFailure('media-reconnect-failed');
    }
  }

  async injectCallback(type: string, data: Record<string, unknown>, result: { code: number; subCode: number; message: string }): Promise<void> {
    await this.deps.callbacks.send(this.call, type, data, undefined, result);
  }

  sendAgentTranscript(words: readonly string[]): void {
    if (!this.link || this.ended) throw new ScenarioFailure('no-media');
    this.link.sendTranscriptAs(words, `8:acs:${this.deps.resourceId}_callautomation`);
  }

  /** Drops the media stream (ACS side) without reconnecting. */
  dropMedia(): void {
    this.link?.close(1006, true);
  }

  async reopenMedia(): Promise<void> {
    if (this.ended) return;
    try {
      await this.openMedia(true);
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
    this.link?.sendRaw(garbageMessages(new Date().toISOString()));
  }

  mediaOpen(): boolean {
    return this.link?.isOpen ?? false;
  }

  streamGeneration(): number {
    return this.streamEpoch;
  }

  async waitStreams(ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (!this.ended && !this.streamsUp() && performance.now() < until) await sleep(50);
    return this.streamsUp();
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
