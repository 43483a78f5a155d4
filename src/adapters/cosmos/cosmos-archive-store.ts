// The `transcripts` container: id = callId, partition key /callId. Writes are idempotent: the
// first write creates; a later write of the same content changes nothing; different content
// (a newer job for the same call) replaces the document only if it was not changed meanwhile (etag).
// Creates of documents up to BULK_DOC_MAX_BYTES go out in Cosmos bulk requests, one per event-loop
// turn (BulkCreator): a backlog drains with one HTTP request per batch instead of one per call. A
// conflict (already archived) then takes the same read-compare-replace path as a single create. Any
// other bulk outcome is redone as a single create, whose error carries the status and retry-after
// that the bulk API drops; after a failed bulk request (or an operation answered 429 or 5xx),
// creates go singly for a cool-down (30 s, doubling while bulk keeps failing): a throttled or
// bulk-less store is asked twice for a document at most once per cool-down, and the retry-after it
// gives is honoured from the single create on.
import { createHash } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { ArchiveJob, TranscriptDocument } from '../../domain/archive-job.js';
import type { ArchiveStore } from '../../domain/ports.js';
import { isConflict, isNotFound } from './cosmos-containers.js';
import { BulkCreator } from './bulk-creator.js';

/** Documents larger than this (JSON bytes, as received) are created one request each. */
export const BULK_DOC_MAX_BYTES = 256 * 1024;
const BULK_COOLDOWN_MIN_MS = 30_000;
const BULK_COOLDOWN_MAX_MS = 300_000;

export interface ArchiveStoreOptions {
  /** Coalesce creates into bulk requests (default true). */
  readonly bulk?: boolean;
  /** Called with the operation count of each bulk request sent. */
  readonly onBulkBatch?: (ops: number) => void;
  /** A bulk request failed: creates go singly until `pausedMs` has passed. */
  readonly onBulkPaused?: (err: unknown, pausedMs: number) => void;
  readonly now?: () => number;
}

export type WriteResult = 'created' | 'unchanged' | 'replaced';

type Stored = TranscriptDocument & { callerKey?: string; _etag?: string };

export function contentHash(job: ArchiveJob): string {
  return contentHashOf(JSON.stringify(job));
}

/**
 * The same hash from the job's JSON as it travelled (encodeJob is JSON.stringify, and parsing then
 * re-serialising that text gives it back unchanged): the archiver hashes the bytes it received
 * instead of serialising the job a second time.
 */
export function contentHashOf(json: string | Uint8Array): string {
  return createHash('sha256').update(json).digest('base64url');
}

/** A stable, non-reversible key for per-caller queries (the raw number stays only in the document). */
export function callerKey(caller: string): string {
  return createHash('sha256').update(caller).digest('base64url').slice(0, 32);
}

/** `json`: the job's encoded form when at hand (see contentHashOf). */
export function toDocument(job: ArchiveJob, archivedAt: number, json?: Uint8Array): TranscriptDocument & { callerKey: string } {
  const hash = json ? contentHashOf(json) : contentHash(job);
  return { ...job, id: job.callId, archivedAt, contentHash: hash, callerKey: callerKey(job.caller) };
}

function strip(doc: Stored): TranscriptDocument {
  const { _etag: _e, callerKey: _c, ...rest } = doc as Stored & Record<string, unknown>;
  for (const k of Object.keys(rest)) if (k.startsWith('_')) delete (rest as Record<string, unknown>)[k];
  return rest as unknown as TranscriptDocument;
}

export class CosmosArchiveStore implements ArchiveStore {
  readonly #bulk: BulkCreator | null;
  readonly #now: () => number;
  readonly #onBulkPaused: ((err: unknown, pausedMs: number) => void) | undefined;
  #bulkPausedUntil = 0;
  #bulkCooldownMs = BULK_COOLDOWN_MIN_MS;

  constructor(
    private readonly container: Container,
    opts: ArchiveStoreOptions = {},
  ) {
    this.#bulk = opts.bulk === false ? null : new BulkCreator(container, undefined, opts.onBulkBatch);
    this.#now = opts.now ?? Date.now;
    this.#onBulkPaused = opts.onBulkPaused;
  }

  /**
   * `bytes`: the document's approximate JSON size when known (the job as received); a known small
   * document is created through the bulk path, anything else with a request of its own.
   */
  async write(doc: TranscriptDocument & { callerKey?: string }, bytes?: number): Promise<WriteResult> {
    const body = doc.callerKey === undefined ? { ...doc, callerKey: callerKey(doc.caller) } : doc;
    const status = this.#bulk && bytes !== undefined && bytes <= BULK_DOC_MAX_BYTES && this.#now() >= this.#bulkPausedUntil ? await this.#bulkCreate(body, doc.callId, bytes) : -1;
    if (status >= 200 && status < 300) return 'created';
    if (status !== 409) {
      try {
        await this.container.items.create(body);
        return 'created';
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    const { resource, etag } = await this.container.item(doc.id, doc.callId).read<Stored>();
    if (resource && resource.contentHash === doc.contentHash) return 'unchanged';
    await this.container.item(doc.id, doc.callId).replace(body, etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {});
    return 'replaced';
  }

  /**
   * The operation's status from a bulk request; -1 when the request as a whole failed. A failed
   * request, or an operation throttled or refused by the service (429, 5xx), pauses bulk creates.
   */
  async #bulkCreate(body: object, callId: string, bytes: number): Promise<number> {
    let status: number;
    try {
      status = await (this.#bulk as BulkCreator).create(body as Record<string, unknown>, callId, bytes);
    } catch (err) {
      this.#pauseBulk(err);
      return -1;
    }
    if (status === 429 || status === 0 || status >= 500) this.#pauseBulk(new Error(`bulk create operation answered ${status}`));
    else this.#bulkCooldownMs = BULK_COOLDOWN_MIN_MS;
    return status;
  }

  #pauseBulk(err: unknown): void {
    if (this.#now() < this.#bulkPausedUntil) return; // one report per episode, not per document
    const pausedMs = this.#bulkCooldownMs;
    this.#bulkPausedUntil = this.#now() + pausedMs;
    this.#bulkCooldownMs = Math.min(BULK_COOLDOWN_MAX_MS, pausedMs * 2);
    this.#onBulkPaused?.(err, pausedMs);
  }

  async upsertTranscript(doc: TranscriptDocument): Promise<void> {
    await this.write(doc);
  }

  async getTranscript(callId: string): Promise<TranscriptDocument | null> {
    try {
      const { resource } = await this.container.item(callId, callId).read<Stored>();
      return resource ? strip(resource) : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /**
   * The worker's call id of an archived call known by its ACS callConnectionId (operators and ACS
   * logs know calls by it). A cross-partition query; the call id stays the document's key.
   */
  async findCallIdByConnection(callConnectionId: string): Promise<string | null> {
    const { resources } = await this.container.items
      .query<{ callId: string }>({
        query: 'SELECT TOP 1 c.callId FROM c WHERE c.callConnectionId = @c',
        parameters: [{ name: '@c', value: callConnectionId }],
      })
      .fetchAll();
    return resources[0]?.callId ?? null;
  }

  /** A caller's archived calls, newest first (cross-partition query on callerKey). */
  async listByCaller(caller: string, limit = 50): Promise<{ callId: string; startedAt: number; endedAt: number; outcome: string }[]> {
    const { resources } = await this.container.items
      .query<{ callId: string; startedAt: number; endedAt: number; outcome: string }>({
        query: 'SELECT TOP @n c.callId, c.startedAt, c.endedAt, c.outcome FROM c WHERE c.callerKey = @k ORDER BY c.startedAt DESC',
        parameters: [
          { name: '@n', value: limit },
          { name: '@k', value: callerKey(caller) },
        ],
      })
      .fetchAll();
    return resources;
  }
}
