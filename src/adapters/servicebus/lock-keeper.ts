// Keeps the peek-locks of messages the archiver still holds (waiting out a throttle, or a slow
// write) from expiring, for at most `maxHoldMs` per message. One timer serves every held message,
// armed for the earliest renewal due. Most messages are settled within milliseconds, long before
// a renewal is due, and cost a map entry; the SDK's built-in renewal arms a timer and formats log
// lines for every message received, which showed up in the archiver's profile.

export interface Lockable {
  lockedUntilUtc?: Date;
}

export interface LockKeeperDeps<M> {
  /** Renews the lock and updates the message's lockedUntilUtc (ServiceBusReceiver.renewMessageLock does). */
  renew(m: M): Promise<unknown>;
  /** A renewal failed (lock lost, link gone): the keeper stops renewing that message. */
  onError(err: unknown, m: M): void;
  readonly now?: () => number;
}

interface Held {
  readonly since: number;
  /** When to renew next; Infinity while a renewal is under way. */
  renewAt: number;
}

/** Renew a little before expiry, as the SDK does: when half the time is left, at most 10 s early. */
export function renewAt(lockedUntil: number, now: number): number {
  const remaining = lockedUntil - now;
  if (remaining <= 0) return now;
  return lockedUntil - Math.min(remaining / 2, 10_000);
}

export class LockKeeper<M extends Lockable> {
  readonly #held = new Map<M, Held>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  #stopped = false;

  constructor(
    private readonly deps: LockKeeperDeps<M>,
    private readonly maxHoldMs: number,
  ) {
    this.#now = deps.now ?? Date.now;
  }

  /** Messages whose locks are being kept. */
  get size(): number {
    return this.#held.size;
  }

  hold(m: M): void {
    if (this.#stopped || this.maxHoldMs <= 0) return;
    const now = this.#now();
    const h: Held = { since: now, renewAt: renewAt(m.lockedUntilUtc?.getTime() ?? now, now) };
    this.#held.set(m, h);
    this.#arm(h.renewAt);
  }

  /** Stops keeping the lock (call it before settling: a renewal racing a settlement only fails). */
  release(m: M): void {
    this.#held.delete(m);
  }

  stop(): void {
    this.#stopped = true;
    this.#held.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  #arm(at: number): void {
    if (this.#stopped || (this.#timer && this.#timerAt <= at)) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#due(), Math.max(0, at - this.#now()));
    this.#timer.unref();
  }

  #due(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#now();
    let next = Infinity;
    for (const [m, h] of this.#held) {
      if (now - h.since >= this.maxHoldMs) {
        this.#held.delete(m); // held long enough: let the lock lapse, the broker redelivers
        continue;
      }
      if (h.renewAt > now) {
        next = Math.min(next, h.renewAt);
        continue;
      }
      h.renewAt = Infinity;
      this.deps.renew(m).then(
        () => {
          if (this.#held.get(m) !== h) return;
          h.renewAt = renewAt(m.lockedUntilUtc?.getTime() ?? this.#now(), this.#now());
          this.#arm(h.renewAt);
        },
        (err: unknown) => {
          if (this.#held.get(m) !== h) return;
          this.#held.delete(m);
          this.deps.onError(err, m);
        },
      );
    }
    if (next < Infinity) this.#arm(next);
  }
}
