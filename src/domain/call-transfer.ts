// Transfer to a human. The agent says it is transferring, the line plays out, then the transfer is
// requested through Call Automation (transferCallToParticipant). ACS answers with a callback:
// CallTransferAccepted → our leg is out of the call; the controller (call-lifecycle.ts) finalizes it
// once as 'transferred' (archived like any call), never hanging up (that would end the caller's new
// leg). CallTransferFailed → the agent says so and the call goes on. No target → "no agent available"
// and the call goes on. Any responder reaches it: the turn pipeline on the local responder's
// transfer action (the caller said "agent" or keyed 0), a realtime model's tool through
// CallTransfers.transfer(callId, …).
import type { LiveCall } from './live-call.js';
import type { CallControl } from './ports.js';
import { maskTarget, type TransferTarget } from './transfer-target.js';

export const TRANSFERRING_LINE = 'Connecting you to an agent now.';
export const NO_AGENT_LINE = 'Sorry, no agent is free right now. Anything else?';
export const TRANSFER_FAILED_LINE = 'Sorry, the agent did not answer. Anything else?';

export type TransferEvent = 'requested' | 'accepted' | 'failed' | 'no-target';

/** What the caller of transfer() learns: requested (wait for the callback), or why nothing was requested. */
export type TransferResult = 'requested' | 'no-target' | 'failed' | 'busy' | 'ended';

/** Speaks a line to the caller as the agent; resolves once it has played out (or was cut short). */
export interface TransferSpeaker {
  say(line: string): Promise<void>;
}

export interface TransferMetrics {
  transfer(event: TransferEvent): void;
}

export interface CallTransferDeps {
  readonly control: CallControl;
  readonly metrics: TransferMetrics;
}

export interface CallTransferConfig {
  /** The configured target (TRANSFER_TARGET); null: no agent to transfer to. */
  readonly target: TransferTarget | null;
  /** Upper bound on waiting for the announcement to play out before requesting anyway. */
  readonly announceTimeoutMs: number;
  /** How long a requested transfer may go without CallTransferAccepted / CallTransferFailed before it counts as failed. */
  readonly callbackTimeoutMs: number;
}

export interface TransferOptions {
  /** Overrides the configured target (a tool's argument, already parsed). */
  readonly target?: TransferTarget | null;
  /** false when the caller already heard that the transfer is coming (the responder said it). */
  readonly announce?: boolean;
}

type State = 'idle' | 'announcing' | 'requested' | 'ended';

/** One call's transfer: at most one in flight; a failed one may be tried again. */
export class CallTransfer {
  #state: State = 'idle';
  #target: TransferTarget | null = null;
  #waiting: NodeJS.Timeout | null = null;
  readonly #offs: (() => void)[] = [];

  constructor(
    private readonly call: LiveCall,
    private readonly deps: CallTransferDeps,
    private readonly cfg: CallTransferConfig,
    private readonly speaker: TransferSpeaker | null,
  ) {}

  get pending(): boolean {
    return this.#state === 'announcing' || this.#state === 'requested';
  }

  start(): this {
    const ev = this.call.events;
    this.#offs.push(
      ev.on('transferRequested', (e) => void this.transfer({ announce: !e.announced })),
      ev.on('callback', (e) => this.#onCallback(e.type, e.data)),
      ev.on('ended', () => this.stop()),
      ev.on('released', () => this.stop()),
    );
    return this;
  }

  stop(): void {
    this.#state = 'ended';
    this.#clearWait();
    for (const off of this.#offs.splice(0)) off();
  }

  async transfer(opts: TransferOptions = {}): Promise<TransferResult> {
    if (this.#state === 'ended') return 'ended';
    if (this.pending) return 'busy';
    const target = opts.target === undefined ? this.cfg.target : opts.target;
    const log = this.call.log;
    if (!target) {
      this.#emit('no-target', null);
      log.info({ transfer: 'no-target' }, 'transfer asked for, but no target is configured; the call continues');
      await this.#say(NO_AGENT_LINE);
      return 'no-target';
    }
    this.#target = target;
    this.#state = 'announcing';
    this.call.transferPending = true;
    if (opts.announce !== false) await this.#say(TRANSFERRING_LINE);
    const id = this.call.callConnectionId;
    if (this.#state !== 'announcing' || !id) {
      this.call.transferPending = false;
      return 'ended';
    }
    this.#state = 'requested';
    this.#emit('requested', target);
    log.info({ transfer: 'requested', target: maskTarget(target) }, 'transfer requested');
    try {
      await this.deps.control.transfer(id, target, { operationContext: `transfer:${this.call.callId}`, transfereeRawId: this.call.callerRawId });
      if (this.#state === 'requested') this.#armWait(target);
      return 'requested';
    } catch (err) {
      if (this.#state !== 'requested') return 'ended';
      log.warn({ err, target: maskTarget(target) }, 'transfer request failed; the call continues');
      await this.#failed();
      return 'failed';
    }
  }

  #onCallback(type: string, data: Readonly<Record<string, unknown>>): void {
    if (type !== 'CallTransferAccepted' && type !== 'CallTransferFailed') return;
    this.#clearWait();
    const masked = this.#target ? maskTarget(this.#target) : null;
    if (type === 'CallTransferAccepted') {
      // The controller finalizes the call as 'transferred' on the same callback.
      this.#emit('accepted', this.#target);
      this.call.log.info({ transfer: 'accepted', target: masked }, 'transfer accepted; our leg leaves the call');
      this.#state = 'ended';
      return;
    }
    if (this.#state !== 'requested') return;
    this.call.log.warn({ transfer: 'failed', target: masked, result: data['resultInformation'] }, 'transfer failed; the call continues');
    void this.#failed();
  }

  /** ACS answers every transfer with a callback; one that never comes must not leave the caller on hold for good. */
  #armWait(target: TransferTarget): void {
    this.#clearWait();
    this.#waiting = setTimeout(() => {
      this.#waiting = null;
      if (this.#state !== 'requested') return;
      this.call.log.warn({ transfer: 'failed', target: maskTarget(target), timeoutMs: this.cfg.callbackTimeoutMs }, 'no answer to the transfer request; the call continues');
      void this.#failed();
    }, this.cfg.callbackTimeoutMs);
    this.#waiting.unref?.();
  }

  #clearWait(): void {
    if (this.#waiting) clearTimeout(this.#waiting);
    this.#waiting = null;
  }

  async #failed(): Promise<void> {
    this.#state = 'idle';
    this.call.transferPending = false;
    this.#emit('failed', this.#target);
    await this.#say(TRANSFER_FAILED_LINE);
  }

  #emit(event: TransferEvent, target: TransferTarget | null): void {
    this.deps.metrics.transfer(event);
    this.call.events.emit('transfer', { event, target: target ? maskTarget(target) : null });
  }

  /** Speaks and waits for the line to play out, at most announceTimeoutMs. */
  async #say(line: string): Promise<void> {
    if (!this.speaker) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.cfg.announceTimeoutMs);
      timer.unref?.();
    });
    try {
      await Promise.race([this.speaker.say(line), bound]);
    } catch (err) {
      this.call.log.warn({ err }, 'transfer line not spoken');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The transfers of this replica's calls, by call id: what a realtime bridge or a tool calls. */
export class CallTransfers {
  readonly #byCall = new Map<string, CallTransfer>();

  constructor(
    private readonly deps: CallTransferDeps,
    private readonly cfg: CallTransferConfig,
  ) {}

  /** Puts a call under transfer control; `speaker` says the lines (null: nothing is said). */
  attach(call: LiveCall, speaker: TransferSpeaker | null): CallTransfer {
    this.#byCall.get(call.callId)?.stop();
    const t = new CallTransfer(call, this.deps, this.cfg, speaker).start();
    this.#byCall.set(call.callId, t);
    const forget = () => {
      if (this.#byCall.get(call.callId) === t) this.#byCall.delete(call.callId);
    };
    call.events.on('ended', forget);
    call.events.on('released', forget);
    return t;
  }

  /** Transfers the call to a human (the configured target unless one is given). 'ended' for an unknown call. */
  transfer(callId: string, opts: TransferOptions = {}): Promise<TransferResult> {
    const t = this.#byCall.get(callId);
    return t ? t.transfer(opts) : Promise.resolve('ended');
  }

  get size(): number {
    return this.#byCall.size;
  }
}
