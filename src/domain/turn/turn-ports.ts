// The narrow interfaces the turn pipeline needs beyond src/domain/ports.ts.

/** Bounded responder concurrency for the replica (p-queue in production). */
export interface ConcurrencyGate {
  /** True when a new job would have to wait for a free slot. */
  readonly saturated: boolean;
  /** Runs fn when a slot is free; rejects with the signal's reason if aborted while waiting. */
  run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T>;
}

export type FallbackReason = 'timeout' | 'error' | 'empty';

/** Where the pipeline reports what it measured and what went wrong. */
export interface TurnMetrics {
  /** Caller input (final transcript / DTMF '#') → first audio handed to the media outlet. */
  turnLatency(ms: number): void;
  /** Responder start → first text chunk. */
  responderLatency(ms: number): void;
  /** One sentence synthesized (cache hit or miss). */
  ttsLatency(ms: number): void;
  filler(): void;
  fallback(reason: FallbackReason): void;
  superseded(): void;
  failureHangup(): void;
}

export const NOOP_TURN_METRICS: TurnMetrics = {
  turnLatency: () => undefined,
  responderLatency: () => undefined,
  ttsLatency: () => undefined,
  filler: () => undefined,
  fallback: () => undefined,
  superseded: () => undefined,
  failureHangup: () => undefined,
};

/** One turn's timings, kept per call for reports. */
export interface TurnTiming {
  readonly utteranceId: string;
  readonly kind: 'greeting' | 'speech' | 'dtmf';
  /** Input → first speak()/playText(), null when nothing was spoken. */
  readonly turnMs: number | null;
  /** Responder start → first text chunk, null when none came. */
  readonly responderMs: number | null;
  /** Sum of synthesis time of the turn's sentences. */
  readonly ttsMs: number;
  readonly sentences: number;
  readonly filler: boolean;
  readonly fallback: FallbackReason | null;
}

/** Races an async iterable against an abort signal: stops even if the producer ignores the signal. */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iter = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const r = await Promise.race([iter.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    void Promise.resolve(iter.return?.()).catch(() => undefined);
  }
}
