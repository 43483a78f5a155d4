// The archiver: a peek-lock streaming receiver on the archive queue with bounded concurrency
// (maxConcurrentCalls and a p-queue of the same size) and automatic lock renewal. Throttling holds
// the message (lock renewed) and retries it after the store's retry-after while the receive loop
// stops fetching; after too many throttled attempts the message is abandoned (redelivered later).
// Poison is dead-lettered with its reason; the broker dead-letters a message that reached its max
// delivery count.
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import PQueue from 'p-queue';
import type { Logger } from '../../logger.js';
import { counter, gauge, type Registry } from '../../metrics.js';
import { type ArchiveProcessor, ThrottleGate, sleep } from './archive-processor.js';
import { SettleBatcher } from './settle-batcher.js';
import { LockKeeper } from './lock-keeper.js';

export interface ServiceBusArchiverConfig {
  readonly queue: string;
  readonly concurrency: number;
  /** Throttled attempts on one delivery before it is abandoned. */
  readonly maxAttemptsPerDelivery: number;
  readonly lockRenewalMs: number;
  readonly receiveWaitMs: number;
}

export const DEFAULT_ARCHIVER_CONFIG: Omit<ServiceBusArchiverConfig, 'queue' | 'concurrency'> = {
  maxAttemptsPerDelivery: 120,
  lockRenewalMs: 10 * 60_000,
  receiveWaitMs: 1000,
};

export class ServiceBusArchiver {
  readonly #stop = new AbortController();
  readonly gate = new ThrottleGate(this.#stop.signal);
  readonly #pq: PQueue;
  readonly #batcher = new SettleBatcher<ServiceBusReceivedMessage>(bySequence);
  readonly #settling = new Set<Promise<void>>();
  readonly #settled;
  readonly #receiveErrors;
  #receiver: ServiceBusReceiver | null = null;
  #locks: LockKeeper<ServiceBusReceivedMessage> | null = null;
  #sub: { close(): Promise<void> } | null = null;
  #inFlight = 0;

  constructor(
    private readonly deps: { client: ServiceBusClient; processor: ArchiveProcessor; registry: Registry; log: Logger },
    private readonly cfg: ServiceBusArchiverConfig,
  ) {
    this.#pq = new PQueue({ concurrency: cfg.concurrency });
    this.#settled = counter(deps.registry, 'voice_archive_settlements_total', 'Archive messages settled', ['action']);
    this.#receiveErrors = counter(deps.registry, 'voice_archive_receive_errors_total', 'Archive receive loop errors');
    const inFlight = () => this.#inFlight;
    gauge(deps.registry, 'voice_archive_in_flight', 'Archive messages being processed', [], function collect() {
      this.set(inFlight());
    });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  start(): void {
    if (this.#sub) return;
    const receiver = this.deps.client.createReceiver(this.cfg.queue, {
      receiveMode: 'peekLock',
      maxAutoLockRenewalDurationInMs: 0, // the LockKeeper renews, only what is still held when due
      skipParsingBodyAsJson: true,
      skipConvertingDate: true, // archive messages carry no Date properties
    });
    this.#receiver = receiver;
    const locks = new LockKeeper<ServiceBusReceivedMessage>(
      {
        renew: (m) => receiver.renewMessageLock(m),
        onError: (err, m) => {
          this.#receiveErrors.inc();
          this.deps.log.warn({ err, callId: m.messageId }, 'archive lock renewal failed');
        },
      },
      this.cfg.lockRenewalMs,
    );
    this.#locks = locks;
    // A streaming receiver: the SDK holds at most 2 x concurrency messages (one round writing, one
    // locked and ready) and grants new credit only as handlers finish, so while handlers wait out a
    // throttle nothing new is fetched (no spinning). The p-queue bounds Cosmos writes to `concurrency`;
    // a message leaves it once its outcome is known, so the settlement round trip to the broker
    // never holds a write slot.
    this.#sub = receiver.subscribe(
      {
        processMessage: async (m) => {
          if (this.#stop.signal.aborted) return;
          this.#inFlight++;
          locks.hold(m);
          try {
            await this.gate.wait();
            if (this.#stop.signal.aborted) return;
            const settling = await this.#pq.add(() => this.#handle(m));
            await settling?.done;
          } finally {
            locks.release(m);
            this.#inFlight--;
          }
        },
        processError: async (args) => {
          if (this.#stop.signal.aborted) return;
          this.#receiveErrors.inc();
          this.deps.log.warn({ err: args.error, source: args.errorSource }, 'archive receiver error');
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: this.cfg.concurrency * 2 },
    );
  }

  /** Processes one message until its outcome is known; returns the settlement it started (if any). */
  async #handle(m: ServiceBusReceivedMessage): Promise<{ done: Promise<void> } | null> {
    const receiver = this.#receiver as ServiceBusReceiver;
    const props = (m.applicationProperties ?? {}) as Record<string, unknown>;
    const callId = typeof m.messageId === 'string' ? m.messageId : undefined;
    for (let attempt = 1; ; attempt++) {
      const r = await this.deps.processor.process(m.body, props, attempt);
      if (this.#stop.signal.aborted && r.kind === 'retry') return null;
      if (r.kind === 'archived') return this.#settle('complete', m, () => receiver.completeMessage(m), callId);
      if (r.kind === 'poison') {
        this.deps.log.warn({ callId, reason: r.reason, description: r.description }, 'archive job dead-lettered');
        return this.#settle('dead-letter', m, () => receiver.deadLetterMessage(m, { deadLetterReason: r.reason, deadLetterErrorDescription: r.description }), callId);
      }
      this.gate.block(r.afterMs);
      if (attempt >= this.cfg.maxAttemptsPerDelivery) return this.#settle('abandon', m, () => receiver.abandonMessage(m), callId);
      await this.gate.wait(); // at least r.afterMs: block() above set the deadline
      if (this.#stop.signal.aborted) return null;
    }
  }

  /** Starts a settlement (sent with the others due in this turn) and tracks it until it is answered. */
  #settle(action: string, m: ServiceBusReceivedMessage, fn: () => Promise<void>, callId: string | undefined): { done: Promise<void> } {
    this.#locks?.release(m);
    const done = this.#batcher.settle(m, fn).then(
      () => {
        this.#settled.inc({ action });
      },
      (err: unknown) => {
        // Lock lost or link gone: the broker redelivers; the idempotent write makes that harmless.
        this.#settled.inc({ action: `${action}-failed` });
        this.deps.log.warn({ err, callId }, 'archive settlement failed');
      },
    );
    this.#settling.add(done);
    void done.finally(() => this.#settling.delete(done));
    return { done };
  }

  /** Stops receiving, lets in-flight messages finish and their settlements land (up to timeoutMs), closes the receiver. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const sub = this.#sub;
    await sub?.close().catch(() => undefined);
    const timer = new AbortController();
    const drained = this.#pq.onIdle().then(() => Promise.all([...this.#settling]));
    await Promise.race([drained, sleep(timeoutMs, timer.signal)]);
    timer.abort();
    this.#stop.abort();
    this.#locks?.stop();
    await this.#receiver?.close().catch(() => undefined);
  }

  /** Closes the receiver at once with messages still locked (their locks expire; the broker redelivers). */
  async abort(): Promise<void> {
    this.#stop.abort();
    this.#locks?.stop();
    this.#pq.clear();
    await this.#receiver?.close().catch(() => undefined);
  }
}

/** Queue order, so settlements due together carry consecutive delivery ids. */
function bySequence(a: ServiceBusReceivedMessage, b: ServiceBusReceivedMessage): number {
  return (a.sequenceNumber?.toNumber() ?? 0) - (b.sequenceNumber?.toNumber() ?? 0);
}
