// ConcurrencyGate over p-queue: at most `concurrency` responder calls run at once on this replica.
import PQueue from 'p-queue';
import type { ConcurrencyGate } from '../../domain/turn/turn-ports.js';

export class PQueueGate implements ConcurrencyGate {
  readonly #queue: PQueue;

  constructor(readonly concurrency: number) {
    this.#queue = new PQueue({ concurrency });
  }

  get saturated(): boolean {
    return this.#queue.pending >= this.concurrency;
  }

  /** Running jobs and waiting jobs. */
  get load(): { running: number; waiting: number } {
    return { running: this.#queue.pending, waiting: this.#queue.size };
  }

  run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.#queue.add(fn, { signal });
  }

  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }
}
