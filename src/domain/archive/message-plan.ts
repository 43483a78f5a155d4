// How an encoded job travels: as is, gzip-compressed, or as a claim check (the payload is stored
// durably elsewhere and the message carries only a reference). Pure decision; adapters act on it.

export interface MessageLimits {
  /** Largest message the queue accepts (the sender link's max_message_size). */
  readonly maxMessageBytes: number;
  /** Room kept for headers and application properties. */
  readonly overheadBytes: number;
  /** Bodies at least this large are compressed. */
  readonly compressAtBytes: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { maxMessageBytes: 262_144, overheadBytes: 16_384, compressAtBytes: 16_384 };

export type Encoding = 'identity' | 'gzip';

export function shouldCompress(bodyBytes: number, limits: MessageLimits): boolean {
  return bodyBytes >= limits.compressAtBytes;
}

/** After compression (if any): does the body fit in one message, or does it need a claim check? */
export function needsClaimCheck(finalBodyBytes: number, limits: MessageLimits): boolean {
  return finalBodyBytes > limits.maxMessageBytes - limits.overheadBytes;
}

/** Application property names carried on every archive message. */
export const ARCHIVE_PROPS = {
  version: 'job-version',
  encoding: 'content-encoding',
  claimCheck: 'claim-check',
  endedAt: 'call-ended-at',
} as const;

/** Retry delay for a throttled write: the server's hint, bounded; exponential backoff without one. */
export function throttleDelayMs(retryAfterMs: number | undefined, attempt: number, bounds = { minMs: 50, maxMs: 30_000 }): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    return Math.min(bounds.maxMs, Math.max(bounds.minMs, retryAfterMs));
  }
  return Math.min(bounds.maxMs, bounds.minMs * 2 ** Math.min(attempt, 16));
}
