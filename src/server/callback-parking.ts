// Callbacks that cannot be checked yet. A callback for a call this replica does not hold is verified
// against the call's secret in Redis; while Redis is down or stalled that cannot be done, and answering
// 503 hands the event back to ACS's retries, which are short next to an outage (a restart, a failover,
// a stall past TTL_LEASE): the CallDisconnected of a call whose owner cannot be looked up would be
// lost. Such a batch, already authenticated by its ACS token (RS256, our resource as audience), is
// parked here instead, in memory and bounded, with no effect yet; once Redis answers it is replayed
// exactly as if it had just arrived: call secret checked, de-duplicated by event id, dispatched or
// forwarded to the owner. A batch whose secret turns out wrong is dropped (counted); one still
// unchecked after maxAgeMs is dropped with a warning naming the call.
import type { Logger } from '../logger.js';
import { isVoiceError } from '../domain/errors.js';
import type { CloudEvent } from './cloud-events.js';

export interface ParkingConfig {
  /** Events parked at most (over all calls); more are refused (503, ACS retries). */
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  readonly retryMs: number;
}

export const DEFAULT_PARKING: ParkingConfig = { maxEvents: 10_000, maxAgeMs: 10 * 60_000, retryMs: 1000 };

export type ParkingOutcome = 'parked' | 'replayed' | 'rejected' | 'expired' | 'full';

export interface ParkingDeps {
  /** Checks the secret and applies the events; throws UNAUTHENTICATED (dropped) or a backend error (kept). */
  readonly replay: (callId: string, secret: string, events: readonly CloudEvent[]) => Promise<void>;
  readonly count: (outcome: ParkingOutcome, events: number) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

interface Batch {
  readonly callId: string;
  readonly secret: string;
  readonly events: readonly CloudEvent[];
  readonly parkedAt: number;
}

export class CallbackParking {
  readonly #batches: Batch[] = [];
  #events = 0;
  #timer: NodeJS.Timeout | null = null;
  #running = false;

  constructor(
    private readonly deps: ParkingDeps,
    private readonly cfg: ParkingConfig = DEFAULT_PARKING,
  ) {}

  get size(): number {
    return this.#events;
  }

  /** Parks a batch; false when full (the caller answers 503). */
  park(callId: string, secret: string, events: readonly CloudEvent[]): boolean {
    if (this.#events + events.length > this.cfg.maxEvents) {
      this.deps.count('full', events.length);
      return false;
    }
    this.#batches.push({ callId, secret, events, parkedAt: (this.deps.now ?? Date.now)() });
    this.#events += events.length;
    this.deps.count('parked', events.length);
    this.deps.log.warn({ callId, events: events.length }, 'callback parked: its call secret cannot be checked now (state store unreachable); replayed when it answers');
    this.#schedule();
    return true;
  }

  #schedule(): void {
    if (this.#timer || this.#batches.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush().finally(() => this.#schedule());
    }, this.cfg.retryMs);
    this.#timer.unref();
  }

  /** Replays parked batches in arrival order; stops at the first that still cannot be checked. */
  async flush(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#batches.length > 0) {
        const b = this.#batches[0] as Batch;
        try {
          await this.deps.replay(b.callId, b.secret, b.events);
          this.deps.count('replayed', b.events.length);
          this.deps.log.info({ callId: b.callId, events: b.events.length }, 'parked callback replayed');
        } catch (err) {
          if (isVoiceError(err, 'UNAUTHENTICATED')) {
            this.deps.count('rejected', b.events.length);
            this.deps.log.warn({ callId: b.callId }, 'parked callback dropped: call secret refused');
          } else if ((this.deps.now ?? Date.now)() - b.parkedAt > this.cfg.maxAgeMs) {
            this.deps.count('expired', b.events.length);
            this.deps.log.warn({ err, callId: b.callId, events: b.events.length }, 'parked callback dropped: the state store did not answer in time');
          } else {
            return;
          }
        }
        this.#batches.shift();
        this.#events -= b.events.length;
      }
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#batches.length > 0) this.deps.log.warn({ calls: [...new Set(this.#batches.map((b) => b.callId))], events: this.#events }, 'parked callbacks not replayed before shutdown');
  }
}
