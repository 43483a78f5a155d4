// Partition keys against the local Cosmos-compatible server with the guard real Cosmos DB's rules
// imply (partition-key-guard.ts): a document must carry its container's partition key, a point read
// with another key finds nothing, and the worker refuses a container created with another key.
import { CosmosClient } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_CONTAINERS, ensureArchiveContainers } from '../../src/adapters/cosmos/cosmos-containers.js';
import { CosmosClaimStore } from '../../src/adapters/cosmos/cosmos-claim-store.js';
import { startCosmosServer, type CosmosServer } from '../support/cosmos-server.js';

let server: CosmosServer;
let client: CosmosClient;

beforeAll(async () => {
  server = await startCosmosServer();
  client = new CosmosClient({ endpoint: server.endpoint, key: server.key, agent: server.agent });
});
afterAll(async () => {
  client.dispose();
  await server.close();
});

describe('Cosmos partition keys', () => {
  it('claims written by the worker read back from the containers the worker creates', async () => {
    const { claims } = await ensureArchiveContainers(client, `db-${randomUUID()}`);
    const store = new CosmosClaimStore(claims);
    const id = randomUUID();
    await store.put(id, Buffer.from('payload'));
    expect((await store.get(id))?.toString()).toBe('payload');
  });

  it('a claims container partitioned on /callId (the old template) refuses the worker\'s claim documents', async () => {
    const { database } = await client.databases.createIfNotExists({ id: `db-${randomUUID()}` });
    const { container } = await database.containers.createIfNotExists({ id: 'claims', partitionKey: { paths: ['/callId'] } });
    await expect(new CosmosClaimStore(container).put(randomUUID(), Buffer.from('x'))).rejects.toMatchObject({ code: 400 });
  });

  it('a point read with another partition key finds nothing, as in Cosmos DB', async () => {
    const { database } = await client.databases.createIfNotExists({ id: `db-${randomUUID()}` });
    const { container } = await database.containers.createIfNotExists({ id: 't', partitionKey: { paths: ['/callId'] } });
    await container.items.upsert({ id: 'a', callId: 'call-1' });
    expect((await container.item('a', 'call-1').read()).resource).toMatchObject({ id: 'a' });
    expect((await container.item('a', 'a').read()).statusCode).toBe(404);
  });

  it('the worker will not start on a database whose containers carry other partition keys', async () => {
    const databaseId = `db-${randomUUID()}`;
    const { database } = await client.databases.createIfNotExists({ id: databaseId });
    await database.containers.createIfNotExists({ id: 'claims', partitionKey: { paths: ['/callId'] } });
    await expect(ensureArchiveContainers(client, databaseId)).rejects.toThrow(/claims: partition key \/callId, the worker writes \/id/);
    expect(ARCHIVE_CONTAINERS.claims).toBe('/id');
  });
});
