// Creates (if absent) the archive database and its containers, and maps Cosmos errors to what the
// archive pipeline needs to know: throttled (with the server's retry-after), unavailable, or final.
//
// Partition keys:
//   transcripts /callId  — the point read by call id (GET /api/calls/:id/transcript, the archiver's
//                          idempotency check) is a single-partition read; a caller's history is a
//                          cross-partition query on `callerKey` (rare, operator-facing).
//   claims      /id      — claim-check payloads, one per call id, deleted after archiving (no TTL).
//   profiles    /id      — the caller's number or ACS id.
//   analytics   /pk      — tenant|day: a tenant's daily and hourly aggregates of one day (and the
//                          compacted hot counters) in one partition; the analytics route reads one.
import type { Container, CosmosClient } from '@azure/cosmos';

export interface ArchiveContainers {
  readonly transcripts: Container;
  readonly claims: Container;
  readonly profiles: Container;
  readonly analytics: Container;
}

/**
 * The containers the worker writes and the partition key each document carries. bicep/modules/cosmos.bicep
 * declares the same (infra/check-bicep.mjs compares them). No container has a default TTL: claims are
 * deleted once archived and must outlive their queue message (which may sit in the dead-letter queue).
 */
export const ARCHIVE_CONTAINERS = { transcripts: '/callId', claims: '/id', profiles: '/id', analytics: '/pk' } as const;

/**
 * createIfNotExists is a read and then a create: replicas starting together all read 404 and all but
 * one create get 409 Conflict (an id that already exists). The loser asks again and reads the winner's.
 */
async function ifNotExists<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!isConflict(err)) throw err;
    return create();
  }
}

export async function ensureArchiveContainers(client: CosmosClient, databaseId: string): Promise<ArchiveContainers> {
  const { database } = await ifNotExists(() => client.databases.createIfNotExists({ id: databaseId }));
  const names = Object.keys(ARCHIVE_CONTAINERS) as (keyof typeof ARCHIVE_CONTAINERS)[];
  const created = await Promise.all(names.map((id) => ifNotExists(() => database.containers.createIfNotExists({ id, partitionKey: { paths: [ARCHIVE_CONTAINERS[id]] } }))));
  // createIfNotExists returns an existing container as it is: one a template made with another
  // partition key would take writes the worker can never read back. Refuse to start instead.
  const wrong = names.flatMap((id, i) => {
    const paths = created[i]?.resource?.partitionKey?.paths ?? [];
    return paths.length === 1 && paths[0] === ARCHIVE_CONTAINERS[id] ? [] : [`${id}: partition key ${paths.join(',') || '(none)'}, the worker writes ${ARCHIVE_CONTAINERS[id]}`];
  });
  if (wrong.length > 0) throw new Error(`Cosmos DB database ${databaseId} has containers the worker cannot use: ${wrong.join('; ')}`);
  const [transcripts, claims, profiles, analytics] = created.map((c) => c.container) as [Container, Container, Container, Container];
  return { transcripts, claims, profiles, analytics };
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

/** Campaigns (issue 18 item 5): one document per campaign, its target states inside, partition /id. */
export const CAMPAIGN_CONTAINER = { id: 'campaigns', partitionKey: '/id' } as const;

export async function ensureCampaignContainer(client: CosmosClient, databaseId: string): Promise<Container> {
  const { database } = await ifNotExists(() => client.databases.createIfNotExists({ id: databaseId }));
  const { container, resource } = await ifNotExists(() => database.containers.createIfNotExists({ id: CAMPAIGN_CONTAINER.id, partitionKey: { paths: [CAMPAIGN_CONTAINER.partitionKey] } }));
  const paths = resource?.partitionKey?.paths ?? [];
  if (paths.length !== 1 || paths[0] !== CAMPAIGN_CONTAINER.partitionKey) throw new Error(`Cosmos DB container ${CAMPAIGN_CONTAINER.id}: partition key ${paths.join(',') || '(none)'}, the worker writes ${CAMPAIGN_CONTAINER.partitionKey}`);
  return container;
}
