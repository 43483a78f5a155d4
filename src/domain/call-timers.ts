// The named timers of one call (call-controller.ts): at most one armed per slot, each unref'd so it
// never holds the process open; all cleared when the call is finalized, released or disposed.
export type TimerSlot = 'answer' | 'media' | 'max' | 'grace' | 'mediaRecovery' | 'transcriptionRecovery' | 'mediaRestart' | 'transcriptionRestart' | 'polite';

export class CallTimers {
  readonly #slots: Record<TimerSlot, NodeJS.Timeout | null> = {
    answer: null,
    media: null,
    max: null,
    grace: null,
    mediaRecovery: null,
    transcriptionRecovery: null,
    mediaRestart: null,
    transcriptionRestart: null,
    polite: null,
  };

  /** True while the slot's timer is armed (it has neither fired nor been cleared). */
  has(slot: TimerSlot): boolean {
    return this.#slots[slot] !== null;
  }

  /** (Re)arms the slot, clearing the timer armed there; the slot is free again before `fire` runs. */
  arm(slot: TimerSlot, ms: number, fire: () => void): void {
    this.clear(slot);
    const t = setTimeout(() => {
      this.#slots[slot] = null;
      fire();
    }, ms);
    t.unref?.();
    this.#slots[slot] = t;
  }

  clear(slot: TimerSlot): void {
    const t = this.#slots[slot];
    if (t) clearTimeout(t);
    this.#slots[slot] = null;
  }

  clearAll(): void {
    for (const slot of Object.keys(this.#slots) as TimerSlot[]) this.clear(slot);
  }
}
