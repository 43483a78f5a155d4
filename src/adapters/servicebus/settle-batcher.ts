// Settlements that become due in the same turn of the event loop go out together, in queue order.
// The AMQP library writes dispositions once per turn and merges consecutive delivery ids with the
// same outcome into one frame, so a burst of completions costs one frame and one socket write
// instead of one each (and the broker's replies, and the credit the receiver grants afterwards,
// coalesce the same way). A settlement is only deferred to the next turn: nothing waits on a timer.

export class SettleBatcher<T> {
  #pending: { readonly item: T; readonly run: () => void }[] = [];
  #scheduled = false;

  constructor(private readonly order: (a: T, b: T) => number) {}

  /** Runs `settle(item)` in the next turn, together with every other settlement due then. */
  settle(item: T, settle: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({
        item,
        run: () => {
          try {
            settle().then(resolve, reject);
          } catch (err) {
            reject(err);
          }
        },
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 1) batch.sort((a, b) => this.order(a.item, b.item));
    for (const p of batch) p.run();
  }
}
