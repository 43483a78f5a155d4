// The supervisor holds the call controllers (call-controller.ts) of this replica: puts new and
// resumed calls under control, runs the finalize and attach hooks, and drains them at shutdown.
import type { CallOutcome, CallSessionSnapshot } from './call-records.js';
import type { CallControl } from './ports.js';
import { LiveCall, type CallRegistry, type DomainLogger } from './live-call.js';
import type { TransitionObserver } from './call-state-machine.js';
import { CallController } from './call-controller.js';

export type FinalizeHook = (call: LiveCall, outcome: CallOutcome) => Promise<void>;
export type CallTimeoutKind =
  | 'answer'
  | 'media-connect'
  | 'max-duration'
  | 'media-lost'
  | 'media-recovery'
  | 'transcription-recovery'
  | 'media-restart'
  | 'transcription-restart'
  | 'polite-hangup';

export interface CallSupervisorConfig {
  readonly answerTimeoutMs: number;
  readonly mediaConnectTimeoutMs: number;
  readonly maxDurationMs: number;
  /** How long a closed media socket may stay closed before the call counts as gone (ACS may reconnect). */
  readonly mediaReconnectGraceMs: number;
  /** How long an interrupted media or transcription stream may take to be re-established (default 15 s). */
  readonly streamRecoveryMs?: number;
  /**
   * How long an interrupted stream is left to ACS to re-establish before this replica restarts it
   * (startMediaStreaming / startTranscription; default 3 s), and how many restarts a call gets (3).
   */
  readonly streamRestartMs?: number;
  readonly maxStreamRestarts?: number;
  /** How long the goodbye line may take before the call is hung up anyway (default 10 s). */
  readonly politeHangupMs?: number;
}

export interface CallSupervisorObserver extends TransitionObserver {
  /** The call moved to a new phase (after call.phase was updated): persist the snapshot. */
  phaseChanged?(call: LiveCall): void;
  timeout?(kind: CallTimeoutKind): void;
  ended?(outcome: CallOutcome): void;
  finalizerFailed?(): void;
  hangUpFailed?(): void;
  /** A callback for a call that already ended on this replica. */
  late?(type: string): void;
  /** The call left this replica without being finalized here (moved to another owner, or never answered). */
  released?(kind: 'handed-over' | 'abandoned'): void;
  /** MediaStreamingFailed / TranscriptionFailed / PlayFailed / RecognizeFailed, and what was decided. */
  streamFailure?(type: string, decision: 'wait' | 'fatal' | 'recovered' | 'continue' | 'restart' | 'stale'): void;
}

export interface CallSupervisorDeps {
  readonly control: CallControl;
  readonly registry: CallRegistry;
  readonly leases: { drop(callId: string): Promise<void>; forget?(callId: string): void };
  readonly now: () => number;
  readonly observer?: CallSupervisorObserver;
  /**
   * The replica that owns a call (holds its media socket), for the answer and media timers: when the
   * call lives on another replica, this one lets go instead of hanging up a call that is alive elsewhere.
   */
  readonly ownerOf?: (callId: string) => Promise<string | null>;
  readonly workerId?: string;
  /**
   * True while the store is down or has just come back (it may have come back empty: a restart, a
   * failover, a flush): "no owner" then may only mean the owner has not re-asserted its lease yet.
   */
  readonly storeSettling?: () => boolean;
}

export class CallSupervisor {
  readonly #controllers = new Map<string, CallController>();
  readonly hooks: FinalizeHook[] = [];
  readonly #attachHooks: ((call: LiveCall) => void)[] = [];
  readonly observer: CallSupervisorObserver;

  constructor(
    readonly deps: CallSupervisorDeps,
    readonly cfg: CallSupervisorConfig,
  ) {
    this.observer = deps.observer ?? {};
  }

  /** Registers a step that runs once per call at finalization (archive, summary). Errors are logged. */
  onFinalize(hook: FinalizeHook): void {
    this.hooks.push(hook);
  }

  /** Registers a step run once for every call put under control here (new or resumed): the turn pipeline. */
  onAttach(hook: (call: LiveCall) => void): void {
    this.#attachHooks.push(hook);
  }

  /** Puts a new call under control and into the registry. */
  attach(call: LiveCall): CallController {
    const existing = this.#controllers.get(call.callId);
    if (existing) return existing;
    const c = new CallController(call, this);
    this.#controllers.set(call.callId, c);
    if (!this.deps.registry.get(call.callId)) this.deps.registry.add(call);
    for (const hook of this.#attachHooks) {
      try {
        hook(call);
      } catch (err) {
        call.log.error({ err }, 'call attach hook failed');
      }
    }
    return c;
  }

  /** Rebuilds a call answered elsewhere from its snapshot. Null when the snapshot says it ended. */
  resume(snap: CallSessionSnapshot, log: DomainLogger): CallController | null {
    if (snap.phase === 'ended') return null;
    const local = this.#controllers.get(snap.callId);
    if (local) return local;
    const call = new LiveCall({
      callId: snap.callId,
      from: snap.from,
      to: snap.to,
      correlationId: snap.correlationId,
      startedAt: snap.startedAt,
      log: log.child({ callId: snap.callId }),
    });
    call.phase = snap.phase;
    call.serverCallId = snap.serverCallId;
    call.nextSeq = snap.nextSeq;
    call.tenantId = snap.tenantId ?? null;
    if (snap.direction) call.direction = snap.direction;
    const c = this.attach(call);
    if (snap.callConnectionId) this.deps.registry.bindConnection(call, snap.callConnectionId);
    c.resumed();
    return c;
  }

  get(callId: string): CallController | undefined {
    return this.#controllers.get(callId);
  }

  /**
   * Call control as a call's own components (the turn pipeline) use it: their hang-up ends the call
   * through its controller, so it is finalized as agent-hangup rather than as the caller's hang-up
   * when CallDisconnected arrives. Everything else goes straight to Call Automation.
   */
  controlFor(callId: string): CallControl {
    const control = this.deps.control;
    return {
      answer: (req) => control.answer(req),
      hangUp: (connectionId, operationContext) => {
        const c = this.#controllers.get(callId);
        if (c && operationContext === 'responder-failed') return c.hangUp('responder-failed', 'responder failed');
        return c ? c.hangUp('agent-hangup', 'agent hang-up') : control.hangUp(connectionId, operationContext);
      },
      playText: (id, text, opts) => control.playText(id, text, opts),
      cancelMedia: (id, ctx) => control.cancelMedia(id, ctx),
      startMediaStreaming: (id, ctx) => control.startMediaStreaming(id, ctx),
      stopMediaStreaming: (id, ctx) => control.stopMediaStreaming(id, ctx),
      startTranscription: (id, ctx) => control.startTranscription(id, ctx),
      stopTranscription: (id, ctx) => control.stopTranscription(id, ctx),
      transfer: (id, target, opts) => control.transfer(id, target, opts),
    };
  }

  get size(): number {
    return this.#controllers.size;
  }

  /** Called by a controller when it is done: out of the registry and out of supervision. */
  forget(c: CallController): void {
    if (this.#controllers.get(c.call.callId) === c) this.#controllers.delete(c.call.callId);
    this.deps.registry.remove(c.call);
  }

  /** Resolves when every finalization in progress has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.#controllers.values()].map((c) => c.done ?? Promise.resolve()));
  }

  /**
   * Shutdown (SIGTERM, every rolling deploy): live calls continue until they end on their own or
   * `deadlineMs` passes; every call still live then is ended and finalized as 'worker-shutdown'
   * (hung up, archive job enqueued). Resolves once every finalization finished, with how many
   * calls were ended by the deadline.
   */
  async drain(deadlineMs: number): Promise<number> {
    const until = this.deps.now() + deadlineMs;
    while (this.#controllers.size > 0 && this.deps.now() < until) {
      await new Promise((r) => setTimeout(r, Math.max(10, Math.min(250, until - this.deps.now()))));
    }
    const live = [...this.#controllers.values()].filter((c) => !c.finalized);
    await Promise.all([...live.map((c) => c.hangUp('worker-shutdown', 'drain deadline')), this.settled()]);
    return live.length;
  }

  /** Stops every timer (process shutdown); live calls are left for ACS and the lease expiry. */
  dispose(): void {
    for (const c of this.#controllers.values()) c.dispose();
  }
}
