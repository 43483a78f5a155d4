// What the controller (call-controller.ts) does when a media or transcription stream fails: wait for
// ACS to re-establish it, restart it from this replica (a new socket), let the call go when the stream
// came back on another replica, or end the call politely when the failure is fatal.
import type { CallbackEnvelope } from './ports.js';
import type { LiveCall } from './live-call.js';
import type { CallSupervisor, CallTimeoutKind } from './call-supervisor.js';
import type { TimerSlot } from './call-timers.js';
import { callOwner } from './call-owner.js';
import { isConnectionLost } from './connection-lost.js';
import { resultSubCode, streamFailureDecision, streamStatusDetails } from './media-failure.js';

/** The parts of its controller a call's stream recovery uses. */
export interface StreamRecoveryHost {
  readonly call: LiveCall;
  readonly sup: Pick<CallSupervisor, 'cfg' | 'deps' | 'observer'>;
  finalized(): boolean;
  operationContext(): string;
  armed(slot: TimerSlot): boolean;
  arm(slot: TimerSlot, ms: number, kind: CallTimeoutKind): void;
  endPolitely(reason: 'media-failed' | 'transcription-failed', detail: string): void;
  handOver(reason: string): void;
}

export class StreamRecovery {
  readonly #host: StreamRecoveryHost;
  readonly #restarts = { media: 0, transcription: 0 };
  /** Who owned the call when its stream failed (undefined: not looked up): a new owner since means the stream came back there. */
  #ownerAtFailure: Promise<string | null | undefined> = Promise.resolve(undefined);

  constructor(host: StreamRecoveryHost) {
    this.#host = host;
  }

  /**
   * MediaStreamingFailed / TranscriptionFailed by their status details and codes (media-failure.ts):
   * an interruption waits up to streamRecoveryMs for the stream to be re-established; a fatal failure
   * ends the call politely — the agent says why (where it still can) and hangs up, outcome 'failed'.
   */
  failed(env: CallbackEnvelope): void {
    const media = env.type === 'MediaStreamingFailed';
    // A media failure while this replica holds an open socket of the call is old news (held while the
    // call had no owner, collected once its new socket arrived here): the stream is back.
    if (media && this.#host.call.media !== null) {
      this.#host.call.log.info({ result: env.data['resultInformation'] }, `${env.type} for a stream that is open again; ignored`);
      this.#host.sup.observer.streamFailure?.(env.type, 'stale');
      return;
    }
    const decision = streamFailureDecision(env.data);
    const details = streamStatusDetails(env.data);
    const sub = resultSubCode(env.data);
    const connectionLost = isConnectionLost(details, sub);
    const kind = media ? 'media' : 'transcription';
    const recovery: TimerSlot = media ? 'mediaRecovery' : 'transcriptionRecovery';
    const recoveryMs = this.#host.sup.cfg.streamRecoveryMs ?? 15_000;
    if (decision === 'wait') {
      this.#host.call.log.warn({ result: env.data['resultInformation'], decision }, `${env.type}: waiting for the stream to be re-established`);
      this.#host.sup.observer.streamFailure?.(env.type, decision);
      // Whether ACS re-establishes a dropped stream is not documented: if it has not after a short
      // while, restart it (a new socket, to whichever replica the ingress picks).
      if (!this.#host.armed(recovery)) this.#host.arm(recovery, recoveryMs, media ? 'media-recovery' : 'transcription-recovery');
      this.#ownerAtFailure = callOwner(this.#host.sup.deps, this.#host.call.callId);
      this.#host.arm(media ? 'mediaRestart' : 'transcriptionRestart', this.#host.sup.cfg.streamRestartMs ?? 3000, media ? 'media-restart' : 'transcription-restart');
      return;
    }
    if (connectionLost && this.#restarts[kind] < (this.#host.sup.cfg.maxStreamRestarts ?? 3)) {
      this.#host.call.log.warn({ result: env.data['resultInformation'] }, `${env.type}: the stream could not be re-established; restarting it`);
      this.#host.arm(recovery, recoveryMs, media ? 'media-recovery' : 'transcription-recovery');
      void this.#restart(kind);
      return;
    }
    this.#host.call.log.warn({ result: env.data['resultInformation'], decision }, `${env.type}: ending the call`);
    this.#host.sup.observer.streamFailure?.(env.type, decision);
    this.#host.endPolitely(media ? 'media-failed' : 'transcription-failed', `${env.type} ${sub ?? ''}`.trim());
  }

  /** Asks ACS for a new media streaming / transcription subscription (a new socket to the transportUrl). */
  async #restart(kind: 'media' | 'transcription'): Promise<void> {
    const id = this.#host.call.callConnectionId;
    if (!id || this.#host.finalized()) return;
    this.#restarts[kind]++;
    this.#host.sup.observer.streamFailure?.(kind === 'media' ? 'MediaStreamingFailed' : 'TranscriptionFailed', 'restart');
    this.#host.call.log.info({ kind, attempt: this.#restarts[kind] }, kind === 'media' ? 'restarting media streaming' : 'restarting transcription');
    try {
      if (kind === 'media') await this.#host.sup.deps.control.startMediaStreaming(id, this.#host.operationContext());
      else await this.#host.sup.deps.control.startTranscription(id, this.#host.operationContext());
    } catch (err) {
      this.#host.call.log.warn({ err, kind }, 'stream restart request failed');
    }
  }

  /**
   * ACS did not re-establish the stream in streamRestartMs. The owner recorded then may be a replica
   * that died with the stream (its lease outlives it by up to TTL_LEASE): only a different owner
   * since means the stream came back elsewhere (hand over); otherwise restart it from here.
   */
  async restartDue(kind: 'media-restart' | 'transcription-restart'): Promise<void> {
    const media = kind === 'media-restart';
    if (media && this.#host.call.media !== null) return;
    const [before, now] = await Promise.all([this.#ownerAtFailure, callOwner(this.#host.sup.deps, this.#host.call.callId)]);
    if (this.#host.finalized()) return;
    const { workerId } = this.#host.sup.deps;
    if (now !== undefined && now !== null && now !== workerId && now !== before) {
      this.#host.call.log.info({ kind, owner: now }, 'the stream came back on another replica; letting the call go here');
      this.#host.handOver('owned by another replica');
      return;
    }
    if (this.#restarts[media ? 'media' : 'transcription'] < (this.#host.sup.cfg.maxStreamRestarts ?? 3)) await this.#restart(media ? 'media' : 'transcription');
  }
}
