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
}

export const DEFAULT_DELIVERY: DeliveryOptions = { maxAttempts: 5, firstBackoffMs: 100, timeoutMs: 10_000 };

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
    } catch (_err) {
      status = 0;
      text = '';
    }
    if (opts.signal?.aborted || attempt >= opts.maxAttempts) break;
    await sleep(opts.firstBackoffMs * 2 ** (attempt - 1), opts.signal);
  }
  return { status, attempts: attempt, body: text };
}
