// The archiver: a peek-lock streaming receiver on the archive queue with bounded concurrency
// (maxConcurrentCalls and a p-queue of the same size) and automatic lock renewal. Throttling holds the message (lock renewed) and retries it after the
// store's retry-after while the receive loop stops fetching; after too many throttled attempts the
// message is abandoned (redelivered later). Poison is dead-lettered with its reason; the broker
// dead-letters a message that reached its max delivery count.
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import PQueue from 'p-queue';
import type { Logger } from '../../logger.js';
import { counter, gauge, type Registry } from '../../metrics.js';
import { type ArchiveProcessor, ThrottleGate, sleep } from './archive-processor.js';

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
  readonly gate = new ThrottleGate();
  readonly #pq: PQueue;
  readonly #stop = new AbortController();
  readonly #settled;
  readonly #receiveErrors;
  #receiver: ServiceBusReceiver | null = null;
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
      maxAutoLockRenewalDurationInMs: this.cfg.lockRenewalMs,
      skipParsingBodyAsJson: true,
    });
    this.#receiver = receiver;
    // A streaming receiver: the SDK holds at most 2 x concurrency messages (one round writing, one
    // locked and ready) and grants new credit only as handlers finish, so while handlers wait out a
    // throttle nothing new is fetched (no spinning). The p-queue bounds Cosmos writes to `concurrency`.
    this.#sub = receiver.subscribe(
      {
        processMessage: async (m) => {
          if (this.#stop.signal.aborted) return;
          this.#inFlight++;
          try {
            await this.gate.wait(this.#stop.signal);
            await this.#pq.add(() => this.#handle(m));
          } finally {
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

  async #handle(m: ServiceBusReceivedMessage): Promise<void> {
    const receiver = this.#receiver as ServiceBusReceiver;
    const props = (m.applicationProperties ?? {}) as Record<string, unknown>;
    const callId = typeof m.messageId === 'string' ? m.messageId : undefined;
    for (let attempt = 1; ; attempt++) {
      const r = await this.deps.processor.process(m.body, props, attempt);
      if (this.#stop.signal.aborted && r.kind === 'retry') return;
      if (r.kind === 'archived') {
        await this.#settle('complete', () => receiver.completeMessage(m), callId);
        return;
      }
      if (r.kind === 'poison') {
        this.deps.log.warn({ callId, reason: r.reason, description: r.description }, 'archive job dead-lettered');
        await this.#settle('dead-letter', () => receiver.deadLetterMessage(m, { deadLetterReason: r.reason, deadLetterErrorDescription: r.description }), callId);
        return;
      }
      this.gate.block(r.afterMs);
      if (attempt >= this.cfg.maxAttemptsPerDelivery) {
        await this.#settle('abandon', () => receiver.abandonMessage(m), callId);
        return;
      }
      await sleep(r.afterMs, this.#stop.signal);
      if (this.#stop.signal.aborted) return;
    }
  }

  async #settle(action: string, fn: () => Promise<void>, callId: string | undefined): Promise<void> {
    try {
      await fn();
      this.#settled.inc({ action });
    } catch (err) {
      // Lock lost or link gone: the broker redelivers; the idempotent write makes that harmless.
      this.#settled.inc({ action: `${action}-failed` });
      this.deps.log.warn({ err, callId }, 'archive settlement failed');
    }
  }

  /** Stops receiving, lets in-flight messages finish (up to timeoutMs), closes the receiver. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const sub = this.#sub;
    await sub?.close().catch(() => undefined);
    await Promise.race([this.#pq.onIdle(), sleep(timeoutMs)]);
    this.#stop.abort();
    await this.#receiver?.close().catch(() => undefined);
  }

  /** Closes the receiver at once with messages still locked (their locks expire; the broker redelivers). */
  async abort(): Promise<void> {
    this.#stop.abort();
    this.#pq.clear();
    await this.#receiver?.close().catch(() => undefined);
  }
}
