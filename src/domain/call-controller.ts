// The per-call controller: drives the state machine from ACS callbacks and media events, owns the
// call's timers (answer, media connect, maximum duration, media reconnect grace), and finalizes the
// call exactly once whatever arrives first. Its supervisor (call-supervisor.ts) holds the controllers
// of this replica.
import type { CallOutcome } from './call-records.js';
import type { CallbackEnvelope } from './ports.js';
import type { LiveCall } from './live-call.js';
import type { CallSupervisor, CallTimeoutKind } from './call-supervisor.js';
import { CallStateMachine } from './call-state-machine.js';
import { CallTimers, type TimerSlot } from './call-timers.js';
import { ownedElsewhere } from './call-owner.js';
import { isReestablished } from './media-failure.js';
import { StreamRecovery } from './stream-recovery.js';

/** Spoken before hanging up when ACS can no longer transcribe the caller. */
export const CANNOT_HEAR_LINE = "I'm sorry, I can't hear you on this line right now. Please call again later. Goodbye.";
/** Spoken (where still possible) before hanging up when the media stream failed for good. */
export const MEDIA_LOST_LINE = "I'm sorry, we're having technical trouble with this call. Please call again later. Goodbye.";

export class CallController {
  readonly machine: CallStateMachine;
  readonly #timers = new CallTimers();
  readonly #streams: StreamRecovery;
  readonly #unsubscribe: (() => void)[] = [];
  #final: Promise<void> | null = null;
  #hangupOutcome: CallOutcome | null = null;
  #disconnectedEmitted = false;
  #connectedEmitted = false;
  #hangingUp: Promise<void> | null = null;
  #carriedMedia = false;
  #resumed = false;

  constructor(
    readonly call: LiveCall,
    private readonly sup: CallSupervisor,
  ) {
    this.machine = new CallStateMachine(call.phase, {
      transition: (from, to, reason) => {
        call.phase = to;
        call.log.debug({ from, to, reason }, 'call phase');
        sup.observer.transition?.(from, to, reason);
        sup.observer.phaseChanged?.(call);
      },
      illegal: (from, to, reason) => {
        call.log.warn({ from, to, reason }, 'illegal call transition ignored');
        sup.observer.illegal?.(from, to, reason);
      },
    });
    this.#unsubscribe.push(
      call.events.on('mediaConnected', () => this.mediaConnected()),
      call.events.on('mediaClosed', (e) => this.mediaClosed(e.code)),
    );
    this.#streams = new StreamRecovery({
      call,
      sup,
      finalized: () => this.finalized,
      operationContext: () => this.operationContext,
      armed: (slot) => this.#timers.has(slot),
      arm: (slot, ms, kind) => this.#arm(slot, ms, kind),
      endPolitely: (reason, detail) => this.endPolitely(reason, detail),
      handOver: (reason) => this.handOver(reason),
    });
    const remaining = sup.cfg.maxDurationMs - (sup.deps.now() - call.startedAt);
    this.#arm('max', Math.max(0, remaining), 'max-duration');
  }

  /** The operation context every call-control request for this call carries. */
  get operationContext(): string {
    return this.call.callId;
  }

  get finalized(): boolean {
    return this.#final !== null;
  }

  /**
   * Answered here while its audio socket never connected here: the call streams on another replica
   * (the one that holds its conversation). False for a call resumed here (its socket is arriving).
   */
  get streamsElsewhere(): boolean {
    return !this.#carriedMedia && !this.#resumed;
  }

  /** Resolves once finalization finished; null while the call is live. */
  get done(): Promise<void> | null {
    return this.#final;
  }

  /** ringing → answering; arms the answer and media-connect timers. */
  answering(): void {
    if (!this.machine.to('answering', 'answer requested')) return;
    this.#arm('answer', this.sup.cfg.answerTimeoutMs, 'answer');
    this.#arm('media', this.sup.cfg.mediaConnectTimeoutMs, 'media-connect');
  }

  /** Arms the media-connect timer for a call resumed on this replica (its socket is about to arrive). */
  resumed(): void {
    this.#resumed = true;
    if (this.call.phase === 'answering') this.#arm('answer', this.sup.cfg.answerTimeoutMs, 'answer');
    if (this.call.phase !== 'streaming') this.#arm('media', this.sup.cfg.mediaConnectTimeoutMs, 'media-connect');
  }

  /** Applies one authenticated, de-duplicated callback. Never throws. */
  handleCallback(env: CallbackEnvelope): void {
    if (this.finalized) {
      this.sup.observer.late?.(env.type);
      return;
    }
    const log = this.call.log;
    switch (env.type) {
      case 'CallConnected':
        this.#clear('answer');
        // The media socket may have come first (already streaming): that is not a step back.
        if (this.call.phase !== 'streaming') this.machine.to('connected', env.type);
        if (!this.#connectedEmitted && (this.call.phase === 'connected' || this.call.phase === 'streaming')) {
          this.#connectedEmitted = true;
          this.call.events.emit('connected', {});
        }
        break;
      case 'MediaStreamingStarted':
        this.#clear('mediaRestart');
        if (this.#timers.has('mediaRecovery')) {
          this.#clear('mediaRecovery');
          log.info({ reestablished: isReestablished(env.data) }, 'media stream re-established');
          this.sup.observer.streamFailure?.(env.type, 'recovered');
        }
        if (this.call.phase === 'answering') {
          this.#clear('answer');
          this.machine.to('connected', env.type);
        }
        this.machine.to('streaming', env.type);
        break;
      case 'MediaStreamingStopped':
        if (this.call.phase === 'streaming') this.machine.to('connected', env.type);
        break;
      case 'MediaStreamingFailed':
      case 'TranscriptionFailed':
        this.#streams.failed(env);
        break;
      case 'TranscriptionStarted':
      case 'TranscriptionResumed':
        this.#clear('transcriptionRestart');
        if (this.#timers.has('transcriptionRecovery')) {
          this.#clear('transcriptionRecovery');
          log.info({ reestablished: isReestablished(env.data) }, 'transcription re-established');
          this.sup.observer.streamFailure?.(env.type, 'recovered');
        }
        break;
      case 'PlayFailed':
      case 'RecognizeFailed':
        // The turn pipeline records what was (not) played; the call itself goes on.
        log.warn({ result: env.data['resultInformation'], operationContext: env.data['operationContext'] }, `${env.type}; the call continues`);
        this.sup.observer.streamFailure?.(env.type, 'continue');
        break;
      case 'AnswerFailed':
        log.warn({ result: env.data['resultInformation'] }, 'answer failed');
        break;
      default:
        break;
    }
    this.call.events.emit('callback', { type: env.type, data: env.data });
    if (env.type === 'CallDisconnected') {
      this.#emitDisconnected('CallDisconnected');
      void this.finalize(this.#hangupOutcome ?? 'caller-hangup', env.type);
    } else if (env.type === 'AnswerFailed' || env.type === 'CreateCallFailed') {
      // CreateCallFailed: an outbound call that never connected (no answer, busy, refused).
      void this.finalize('failed', env.type);
    } else if (env.type === 'CallTransferAccepted') {
      // Our leg is out of the call (call-transfer.ts): finalize, never hang up (that would end the caller's new leg).
      void this.finalize('transferred', env.type);
    }
  }

  /** Ends the call for everyone (best effort), then finalizes. Concurrent calls share one hang-up. */
  hangUp(outcome: CallOutcome, reason: string): Promise<void> {
    if (this.#final) return this.#final;
    this.#hangingUp ??= this.#hangUp(outcome, reason);
    return this.#hangingUp;
  }

  async #hangUp(outcome: CallOutcome, reason: string): Promise<void> {
    this.#hangupOutcome ??= outcome;
    this.machine.to('disconnecting', reason);
    this.call.interruptTurn('hangup');
    const connectionId = this.call.callConnectionId;
    if (connectionId) {
      try {
        await this.sup.deps.control.hangUp(connectionId, this.operationContext);
      } catch (err) {
        this.call.log.warn({ err, reason }, 'hang up failed');
        this.sup.observer.hangUpFailed?.();
      }
    }
    await this.finalize(this.#hangupOutcome, reason);
  }

  /** Runs finalization once; every later call returns the same promise. */
  finalize(outcome: CallOutcome, reason: string): Promise<void> {
    this.#final ??= this.#finalize(outcome, reason);
    return this.#final;
  }

  /** Forgets the call without finalizing (the answer never went through; nothing to archive). */
  abandon(reason: string): void {
    this.#release('abandoned', reason);
  }

  /**
   * Another replica owns the call now (a higher fence): close its socket, stop its pipeline and
   * media session, release its memory here, without hanging up or archiving (the new owner will).
   */
  handOver(reason: string): void {
    this.#release('handed-over', reason);
  }

  #release(kind: 'handed-over' | 'abandoned', reason: string): void {
    if (this.finalized) return;
    this.#final = Promise.resolve();
    this.#teardown();
    this.call.interruptTurn(reason);
    // Not through the state machine: no snapshot is saved over the new owner's.
    this.call.phase = 'ended';
    this.call.log.info({ reason }, kind === 'handed-over' ? 'call handed over to another replica' : 'call abandoned');
    // Every component lets go on 'released' (media closes the socket and disposes its session);
    // then nothing of this replica reacts to the call any more (the turn pipeline included).
    this.call.events.emit('released', { reason });
    this.call.events.clear();
    this.sup.deps.leases.forget?.(this.call.callId);
    this.sup.observer.released?.(kind);
    this.sup.forget(this);
  }

  /** Clears timers and listeners without finalizing (process shutdown). */
  dispose(): void {
    this.#teardown();
  }

  /** Says goodbye (the turn pipeline speaks the line and hangs up) and hangs up anyway after politeHangupMs. */
  endPolitely(reason: 'media-failed' | 'transcription-failed', detail: string): void {
    if (this.finalized || this.#hangingUp || this.#timers.has('polite')) return;
    this.#hangupOutcome ??= 'failed';
    this.call.events.emit('unrecoverable', { reason, line: reason === 'transcription-failed' ? CANNOT_HEAR_LINE : MEDIA_LOST_LINE, detail });
    this.#arm('polite', this.sup.cfg.politeHangupMs ?? 10_000, 'polite-hangup');
  }

  private mediaConnected(): void {
    if (this.finalized) return;
    this.#carriedMedia = true;
    this.#clear('media');
    this.#clear('grace');
    // A socket with AudioMetadata again: the interrupted stream is back, whatever the callback order.
    this.#clear('mediaRecovery');
    if (this.call.phase === 'answering') {
      this.#clear('answer');
      this.machine.to('connected', 'media connected');
    }
    this.machine.to('streaming', 'media connected');
  }

  private mediaClosed(code: number): void {
    if (this.finalized) return;
    this.call.log.info({ code, graceMs: this.sup.cfg.mediaReconnectGraceMs }, 'media socket closed; waiting for a reconnect');
    this.#arm('grace', this.sup.cfg.mediaReconnectGraceMs, 'media-lost');
  }

  async #finalize(outcome: CallOutcome, reason: string): Promise<void> {
    const call = this.call;
    this.#teardown();
    this.machine.to('ended', reason);
    call.interruptTurn('ended');
    call.log.info({ outcome, reason, durationMs: this.sup.deps.now() - call.startedAt }, 'call ended');
    this.sup.observer.ended?.(outcome);
    call.events.emit('ended', { outcome });
    await Promise.all(
      this.sup.hooks.map(async (hook) => {
        try {
          await hook(call, outcome);
        } catch (err) {
          call.log.error({ err }, 'finalizer hook failed');
          this.sup.observer.finalizerFailed?.();
        }
      }),
    );
    await this.sup.deps.leases.drop(call.callId).catch((err: unknown) => call.log.warn({ err }, 'lease drop failed'));
    this.sup.forget(this);
  }

  #emitDisconnected(reason: string): void {
    if (this.#disconnectedEmitted) return;
    this.#disconnectedEmitted = true;
    this.call.events.emit('disconnected', { reason });
  }

  async #onTimeout(kind: CallTimeoutKind): Promise<void> {
    if (this.finalized) return;
    if (kind === 'media-restart' || kind === 'transcription-restart') return this.#streams.restartDue(kind);
    if (kind !== 'max-duration' && (this.#timers.has('mediaRestart') || this.#timers.has('transcriptionRestart'))) {
      // A stream restart is pending: it decides whether the call lives elsewhere (the owner recorded
      // may have died with the stream). Ask again once it has run.
      const slot: TimerSlot = kind === 'answer' ? 'answer' : kind === 'media-connect' ? 'media' : kind === 'media-lost' ? 'grace' : kind === 'polite-hangup' ? 'polite' : kind === 'media-recovery' ? 'mediaRecovery' : 'transcriptionRecovery';
      this.#arm(slot, (this.sup.cfg.streamRestartMs ?? 3000) + 500, kind);
      return;
    }
    // A callback or socket that landed on another replica may have moved the call there.
    if (kind !== 'max-duration') {
      const elsewhere = await ownedElsewhere(this.sup.deps, this.call);
      if (this.finalized) return;
      if (elsewhere === 'yes') {
        this.call.log.info({ kind }, 'media is on another replica; letting the call go here');
        this.handOver('owned by another replica');
        return;
      }
      if (elsewhere === 'unknown') {
        // The store cannot say who holds the call (Redis down or stalled): the socket may well be
        // live on another replica, so hanging up would drop it. Ask again after the same delay;
        // the maximum-duration timer bounds the wait.
        this.call.log.warn({ kind }, 'call owner unknown (state store unreachable); timer re-armed');
        const slot: TimerSlot = kind === 'answer' ? 'answer' : kind === 'media-connect' ? 'media' : 'grace';
        const ms = kind === 'answer' ? this.sup.cfg.answerTimeoutMs : kind === 'media-connect' ? this.sup.cfg.mediaConnectTimeoutMs : this.sup.cfg.mediaReconnectGraceMs;
        this.#arm(slot, ms, kind);
        return;
      }
    }
    if (this.finalized) return;
    this.call.log.warn({ kind, phase: this.call.phase }, 'call timer fired');
    this.sup.observer.timeout?.(kind);
    if (kind === 'media-lost') this.#emitDisconnected('media closed');
    if (kind === 'media-recovery' || kind === 'transcription-recovery') {
      // The interrupted stream never came back: as fatal as the failure itself.
      this.endPolitely(kind === 'media-recovery' ? 'media-failed' : 'transcription-failed', 'not re-established');
      return;
    }
    await this.hangUp(kind === 'media-lost' || kind === 'polite-hangup' ? 'failed' : 'timeout', `${kind} timeout`);
  }

  #arm(slot: TimerSlot, ms: number, kind: CallTimeoutKind): void {
    this.#timers.arm(slot, ms, () => void this.#onTimeout(kind));
  }

  #clear(slot: TimerSlot): void {
    this.#timers.clear(slot);
  }

  #teardown(): void {
    this.#timers.clearAll();
    for (const off of this.#unsubscribe.splice(0)) off();
  }
}
