import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCosmosServer, type CosmosServer } from '../support/cosmos-server.js';

describe('local Cosmos-compatible server (harness)', () => {
  let cosmos: CosmosServer;
  beforeAll(async () => {
    cosmos = await startCosmosServer();
  });
  afterAll(async () => {
    await cosmos.close();
  });

  it('serves the real SDK over HTTPS with a per-run certificate', async () => {
    const client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, agent: cosmos.agent });
    const { database } = await client.databases.createIfNotExists({ id: 'harness' });
    const { container } = await database.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/pk'] } });
    await container.items.upsert({ id: 'a', pk: 'p', n: 1 });
    const { resource } = await container.item('a', 'p').read<{ n: number }>();
    expect(resource?.n).toBe(1);
    const missing = await container.item('nope', 'p').read();
    expect(missing.statusCode).toBe(404);
    client.dispose();
  });

  it('rejects a client that does not trust the certificate', async () => {
    const client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, connectionPolicy: { retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 1 } } as never });
    await expect(client.databases.createIfNotExists({ id: 'x' })).rejects.toThrow();
    client.dispose();
  });
});
