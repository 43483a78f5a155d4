// HTTP delivery with retries, the way Event Grid and ACS deliver: POST a JSON array, retry on a
// network error or any non-2xx with exponential backoff (scaled down for a local run).

export interface DeliveryResult {
  readonly status: number;
  readonly attempts: number;
  readonly body: string;
}

export interface DeliveryOptions {
  readonly maxAttempts: number;
  readonly firstBackoffMs: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Fixed waits before each retry (instead of exponential backoff from firstBackoffMs). */
  readonly scheduleMs?: readonly number[];
  /** Statuses that end delivery without a retry (dead-lettered or dropped). */
  readonly noRetry?: readonly number[];
}

export const DEFAULT_DELIVERY: DeliveryOptions = { maxAttempts: 5, firstBackoffMs: 100, timeoutMs: 10_000 };

/**
 * Event Grid's documented retry schedule ("Event Grid message delivery and retry",
 * learn.microsoft.com/azure/event-grid/delivery-and-retry): after ~10 s, 30 s, 1 min, 5 min (then 10 min,
 * 30 min, 1 h, ... — a call is long gone by then); it waits 30 s for a reply; webhook 400, 401, 403 and
 * 413 are never retried (dead-lettered or dropped).
 */
export const EVENT_GRID_SCHEDULE_MS: readonly number[] = [10_000, 30_000, 60_000, 300_000];
export const EVENT_GRID_NO_RETRY: readonly number[] = [400, 401, 403, 413];

/** Event Grid delivery of one event; `fast` divides the schedule by 100 (tests that need speed). */
export function eventGridDelivery(fast: boolean): DeliveryOptions {
  return {
    maxAttempts: EVENT_GRID_SCHEDULE_MS.length + 1,
    firstBackoffMs: 0,
    timeoutMs: 30_000,
    scheduleMs: fast ? EVENT_GRID_SCHEDULE_MS.map((ms) => ms / 100) : EVENT_GRID_SCHEDULE_MS,
    noRetry: EVENT_GRID_NO_RETRY,
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Sends until a 2xx or attempts run out; `headers(attempt)` is called per attempt (fresh tokens). */
export async function deliver(
  url: string,
  body: string,
  headers: (attempt: number) => Promise<Record<string, string>> | Record<string, string>,
  opts: DeliveryOptions = DEFAULT_DELIVERY,
): Promise<DeliveryResult> {
  let status = 0;
  let text = '';
  let attempt = 0;
  while (attempt < opts.maxAttempts) {
    attempt++;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await headers(attempt)) },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      status = res.status;
      text = await res.text();
      if (status >= 200 && status < 300) break;
      if (opts.noRetry?.includes(status)) break;
    } catch (_err) {
      status = 0;
      text = '';
    }
    if (opts.signal?.aborted || attempt >= opts.maxAttempts) break;
    await sleep(opts.scheduleMs ? (opts.scheduleMs[attempt - 1] ?? opts.scheduleMs[opts.scheduleMs.length - 1] ?? 0) : opts.firstBackoffMs * 2 ** (attempt - 1), opts.signal);
  }
  return { status, attempts: attempt, body: text };
}
