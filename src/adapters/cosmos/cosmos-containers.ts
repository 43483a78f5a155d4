// Creates (if absent) the archive database and its containers, and maps Cosmos errors to what the
// archive pipeline needs to know: throttled (with the server's retry-after), unavailable, or final.
//
// Partition keys:
//   transcripts /callId  — the point read by call id (GET /api/calls/:id/transcript, the archiver's
//                          idempotency check) is a single-partition read; a caller's history is a
//                          cross-partition query on `callerKey` (rare, operator-facing).
//   claims      /id      — claim-check payloads, one per call id, deleted after archiving.
//   profiles    /id      — the caller's number or ACS id.
import type { Container, CosmosClient } from '@azure/cosmos';

export interface ArchiveContainers {
  readonly transcripts: Container;
  readonly claims: Container;
  readonly profiles: Container;
}

export async function ensureArchiveContainers(client: CosmosClient, databaseId: string): Promise<ArchiveContainers> {
  const { database } = await client.databases.createIfNotExists({ id: databaseId });
  const [transcripts, claims, profiles] = await Promise.all([
    database.containers.createIfNotExists({ id: 'transcripts', partitionKey: { paths: ['/callId'] } }),
    database.containers.createIfNotExists({ id: 'claims', partitionKey: { paths: ['/id'] } }),
    database.containers.createIfNotExists({ id: 'profiles', partitionKey: { paths: ['/id'] } }),
  ]);
  return { transcripts: transcripts.container, claims: claims.container, profiles: profiles.container };
}

export type CosmosFailure =
  | { readonly kind: 'throttled'; readonly retryAfterMs: number | undefined; readonly status: number }
  | { readonly kind: 'unavailable'; readonly status: number }
  | { readonly kind: 'final'; readonly status: number };

/** Classifies an error thrown by @azure/cosmos. */
export function classifyCosmosError(err: unknown): CosmosFailure {
  const e = err as { code?: unknown; statusCode?: unknown; retryAfterInMs?: unknown; headers?: Record<string, unknown> };
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (status === 429 || status === 503) {
    const header = e.headers?.['x-ms-retry-after-ms'];
    const hinted = typeof e.retryAfterInMs === 'number' ? e.retryAfterInMs : header !== undefined ? Number(header) : undefined;
    return { kind: 'throttled', retryAfterMs: hinted !== undefined && Number.isFinite(hinted) ? hinted : undefined, status };
  }
  if (status === 0 || status === 408 || status === 449 || status >= 500) return { kind: 'unavailable', status };
  return { kind: 'final', status };
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown }).code === 404;
}

export function isConflict(err: unknown): boolean {
  return (err as { code?: unknown }).code === 409;
}
