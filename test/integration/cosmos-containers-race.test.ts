// Replicas starting together (4 `serve` processes in bench/admission-serve.mjs): each runs
// createIfNotExists, a read then a create, so all read 404 and all but one create get 409 Conflict
// (Cosmos DB: "the ID provided for a resource ... has been taken by an existing resource"). Every
// replica must start on the winner's database and containers instead of exiting.
import { CosmosClient } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureArchiveContainers, ensureCampaignContainer } from '../../src/adapters/cosmos/cosmos-containers.js';
import { startCosmosServer, type CosmosServer } from '../support/cosmos-server.js';

let server: CosmosServer;
const clients: CosmosClient[] = [];

beforeAll(async () => {
  server = await startCosmosServer();
  for (let i = 0; i < 4; i++) clients.push(new CosmosClient({ endpoint: server.endpoint, key: server.key, agent: server.agent }));
});
afterAll(async () => {
  for (const c of clients) c.dispose();
  await server.close();
});

describe('Cosmos containers created by replicas starting at once', () => {
  it('4 replicas ensuring the same archive and campaign containers together all succeed (409 on the create is the existing one)', async () => {
    const db = `db-${randomUUID()}`;
    const results = await Promise.allSettled(clients.map(async (c) => [await ensureArchiveContainers(c, db), await ensureCampaignContainer(c, db)]));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
  });
});
