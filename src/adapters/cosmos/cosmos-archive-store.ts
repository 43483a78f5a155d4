// The `transcripts` container: id = callId, partition key /callId. Writes are idempotent: the
// first write creates; a later write of the same content changes nothing; different content
// (a newer job for the same call) replaces the document only if it was not changed meanwhile (etag).
import { createHash } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { ArchiveJob, TranscriptDocument } from '../../domain/archive-job.js';
import type { ArchiveStore } from '../../domain/ports.js';
import { isConflict, isNotFound } from './cosmos-containers.js';

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
  constructor(private readonly container: Container) {}

  async write(doc: TranscriptDocument & { callerKey?: string }): Promise<WriteResult> {
    const body = doc.callerKey === undefined ? { ...doc, callerKey: callerKey(doc.caller) } : doc;
    try {
      await this.container.items.create(body);
      return 'created';
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const { resource, etag } = await this.container.item(doc.id, doc.callId).read<Stored>();
    if (resource && resource.contentHash === doc.contentHash) return 'unchanged';
    await this.container.item(doc.id, doc.callId).replace(body, etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {});
    return 'replaced';
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
