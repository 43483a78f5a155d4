// Cosmos answers 429 (x-ms-retry-after-ms) to every write for 30 s while 100 calls end: the worker
// keeps serving, every call is archived once afterwards, and retries follow the server's retry-after.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCosmosServer, type CosmosServer } from '../support/cosmos-server.js';
import { AmqpPeer } from '../support/amqp-peer.js';
import { testConfig } from '../support/test-env.js';
import { silentLogger } from '../../src/logger.js';
import { createWorker, type Worker } from '../../src/wiring/create-worker.js';
import { LiveCall } from '../../src/domain/live-call.js';
import type { TranscriptDocument } from '../../src/domain/archive-job.js';
import { waitFor } from './archive-rig.js';

const THROTTLE_MS = 30_000;
const RETRY_AFTER_MS = 1000;

describe('archive under Cosmos throttling', () => {
  let cosmos: CosmosServer;
  let peer: AmqpPeer;
  let worker: Worker;
  let url: string;
  let dir: string;
  let throttleUntil = 0;
  const attempts = new Map<string, number>();
  let throttled = 0;

  beforeAll(async () => {
    cosmos = await startCosmosServer();
    peer = await AmqpPeer.start({ lockDurationMs: 5000 });
    dir = await mkdtemp(join(tmpdir(), 'archive-throttle-'));
    await writeFile(join(dir, 'ca.pem'), cosmos.cert);
    const server = cosmos.server;
    const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    const pass = (req: IncomingMessage, res: ServerResponse) => {
      for (const h of handlers) h.call(server, req, res);
    };
    const refuse = (res: ServerResponse) => {
      throttled++;
      res.writeHead(429, { 'content-type': 'application/json', 'x-ms-retry-after-ms': String(RETRY_AFTER_MS), 'x-ms-substatus': '3200' });
      res.end(JSON.stringify({ code: 'TooManyRequests', message: 'Request rate is large' }));
    };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const isWrite = (req.method === 'POST' || req.method === 'PUT') && /\/colls\/transcripts\/docs/.test(req.url ?? '') && !req.headers['x-ms-documentdb-isquery'];
      if (!isWrite) return pass(req, res);
      const pk = req.headers['x-ms-documentdb-partitionkey'];
      if (typeof pk === 'string') {
        // A single-document write: its partition key is in a header.
        attempts.set(pk, (attempts.get(pk) ?? 0) + 1);
        if (Date.now() < throttleUntil) {
          req.resume();
          return refuse(res);
        }
        return pass(req, res);
      }
      // A bulk request: the partition key of each operation is in the body. Read it, count each
      // operation as an attempt for its call, then refuse or hand the same bytes to the server.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const ops = JSON.parse(body.toString('utf8')) as unknown;
        for (const op of Array.isArray(ops) ? (ops as { partitionKey?: string }[]) : []) {
          if (typeof op.partitionKey === 'string') attempts.set(op.partitionKey, (attempts.get(op.partitionKey) ?? 0) + 1);
        }
        if (Date.now() < throttleUntil) return refuse(res);
        const replay = Object.assign(Readable.from([body]), { headers: req.headers, method: req.method, url: req.url, httpVersion: req.httpVersion, socket: req.socket });
        pass(replay as unknown as IncomingMessage, res);
      });
    });
    worker = await createWorker(
      testConfig({
        COSMOS_ENDPOINT: cosmos.endpoint,
        COSMOS_KEY: cosmos.key,
        COSMOS_CA_FILE: join(dir, 'ca.pem'),
        COSMOS_DATABASE: `db-${randomUUID().slice(0, 8)}`,
        SERVICEBUS_CONNECTION_STRING: peer.connectionString(),
        SPOOL_DIR: join(dir, 'spool'),
        ARCHIVE_CONCURRENCY: '16',
      }),
      silentLogger(),
      { defaultMetrics: false },
    );
    url = (await worker.start()).url;
  });

  afterAll(async () => {
    await worker?.stop('test');
    await peer?.close();
    await cosmos?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('archives all 100 calls once after the throttling ends, honouring retry-after, while serving', async () => {
    const log = silentLogger();
    const started = Date.now();
    throttleUntil = started + THROTTLE_MS;
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const callId = randomUUID();
      ids.push(callId);
      const call = new LiveCall({ callId, from: '4:+14255550100', to: '4:+14255550101', correlationId: null, startedAt: Date.now() - 5000, log });
      await worker.state.conversations.appendTurn(callId, { seq: 1, speaker: 'user', text: `hello ${i}`, at: Date.now() - 4000 });
      await worker.state.conversations.appendTurn(callId, { seq: 2, speaker: 'assistant', text: `hi ${i}`, at: Date.now() - 3000 });
      await worker.archive.finalizer(call, 'completed');
    }
    // The worker keeps answering while every write is refused.
    let healthy = 0;
    while (Date.now() < throttleUntil) {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) healthy++;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(healthy).toBeGreaterThan(20);
    expect(throttled).toBeGreaterThan(0);

    const client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, agent: cosmos.agent });
    const container = client.database(worker.config.cosmos.database).container('transcripts');
    await waitFor(
      async () => (await container.items.query<TranscriptDocument>('SELECT c.id FROM c').fetchAll()).resources.length >= 100,
      60_000,
      '100 archived',
    );
    const elapsed = Date.now() - started;
    const { resources } = await container.items.query<TranscriptDocument>('SELECT * FROM c').fetchAll();
    client.dispose();
    expect(resources.map((d) => d.id).sort()).toEqual([...ids].sort());
    const results = await worker.registry.getSingleMetric('voice_archive_results_total')?.get();
    const count = (r: string) => results?.values.find((v) => v.labels.result === r)?.value ?? 0;
    expect(count('created')).toBe(100);
    expect(count('replaced')).toBe(0);
    // Retry-after honoured: no message was tried more often than once per retry-after interval.
    const maxAttempts = Math.max(...ids.map((id) => attempts.get(JSON.stringify([id])) ?? 0));
    expect(maxAttempts).toBeGreaterThanOrEqual(1);
    expect(maxAttempts).toBeLessThanOrEqual(Math.ceil(elapsed / RETRY_AFTER_MS) + 2);
    // Not a busy loop: total throttled writes stay within concurrency x window / retry-after (+ slack).
    expect(throttled).toBeLessThanOrEqual(16 * (THROTTLE_MS / RETRY_AFTER_MS + 2));
    expect(peer.deadLetters(worker.config.serviceBus.archiveQueue)).toHaveLength(0);
  }, 150_000);
});
