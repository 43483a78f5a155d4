// A Cosmos-compatible server in process (@vercel/cosmosdb-server) over HTTPS with a certificate made
// for this run. The demo uses it when no COSMOS_ENDPOINT is configured; integration tests use it as
// the local stand-in. The real @azure/cosmos SDK talks to it through an agent that trusts only this
// certificate (TLS checks stay on).
import { Agent } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { guardPartitionKeys } from './partition-key-guard.js';
import { createHttpsServer } from '@vercel/cosmosdb-server';
import { generate } from 'selfsigned';

export interface EmbeddedCosmos {
  readonly endpoint: string;
  /** Any key is accepted by the local server; the SDK still needs one. */
  readonly key: string;
  /** PEM of the per-run certificate. */
  readonly cert: string;
  /** An agent that trusts the per-run certificate; pass it to CosmosClient. */
  readonly agent: Agent;
  readonly server: Server;
  close(): Promise<void>;
}

export const EMBEDDED_COSMOS_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export async function startEmbeddedCosmos(opts: { port?: number; host?: string } = {}): Promise<EmbeddedCosmos> {
  const host = opts.host ?? '127.0.0.1';
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    days: 2,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  } as Parameters<typeof generate>[1]);
  const server = createHttpsServer({ cert: pems.cert, key: pems.private, keepAlive: true } as never) as Server;
  // Partition keys as real Cosmos DB enforces them (the package ignores them): see partition-key-guard.ts.
  const [inner] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', guardPartitionKeys(inner as RequestListener));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: in a `serve --processes N` worker a plain listen(0) would share one port (and one
    // certificate) across every process (node:cluster hands out port-0 handles by key); each process's
    // embedded store is its own. https://nodejs.org/api/net.html#serverlistenoptions-callback
    server.listen({ port: opts.port ?? 0, host, exclusive: true }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ ca: pems.cert, keepAlive: true });
  return {
    endpoint: `https://${host}:${port}/`,
    key: EMBEDDED_COSMOS_KEY,
    cert: pems.cert,
    agent,
    server,
    async close() {
      agent.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
