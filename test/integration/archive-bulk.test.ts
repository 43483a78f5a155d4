// The archive store's bulk path against the real @azure/cosmos SDK and the local Cosmos server:
// creates received together leave in one bulk request, a redelivery changes nothing, newer content
// replaces, a large document goes alone, a failed bulk request is redone singly (then bulk pauses),
// and throttling reaches the processor with the server's retry-after.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCosmosServer, type CosmosServer } from '../support/cosmos-server.js';
import { ensureArchiveContainers, type ArchiveContainers } from '../../src/adapters/cosmos/cosmos-containers.js';
import { BULK_DOC_MAX_BYTES, CosmosArchiveStore, toDocument } from '../../src/adapters/cosmos/cosmos-archive-store.js';
import { ArchiveProcessor } from '../../src/adapters/servicebus/archive-processor.js';
import { buildArchiveJob } from '../../src/domain/archive/job-builder.js';
import { encodeJob } from '../../src/adapters/servicebus/job-codec.js';
import type { ArchiveJob } from '../../src/domain/archive-job.js';
import { createRegistry } from '../../src/metrics.js';

function job(text = 'hello', turns = 4): ArchiveJob {
  const callId = randomUUID();
  const startedAt = Date.now() - 60_000;
  const history = Array.from({ length: turns }, (_, k) => ({ seq: k + 1, speaker: (k % 2 ? 'assistant' : 'user') as 'assistant' | 'user', text: `${text} ${k}`, at: startedAt + k * 1000 }));
  return buildArchiveJob({
    call: { callId, from: '4:+14255550123', to: '4:+14255550199', startedAt, callConnectionId: null, correlationId: null },
    conversation: { callId, schemaVersion: 1, context: {}, history, turnCount: turns },
    outcome: 'completed',
    endedAt: Date.now(),
  });
}

describe('archive store: Cosmos bulk creates', () => {
  let cosmos: CosmosServer;
  let client: CosmosClient;
  let containers: ArchiveContainers;
  const requests = { bulk: 0, single: 0 };
  /** Status answered to bulk requests (null: served), and whether single writes are throttled. */
  let failBulk: number | null = null;
  let throttleSingles = false;

  beforeAll(async () => {
    cosmos = await startCosmosServer();
    const server = cosmos.server;
    const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'POST' && /\/colls\/transcripts\/docs$/.test(req.url ?? '') && !req.headers['x-ms-documentdb-isquery']) {
        const isBulk = Boolean(req.headers['x-ms-cosmos-is-batch-request']);
        if (isBulk) requests.bulk++;
        else requests.single++;
        const refuse = isBulk ? failBulk : throttleSingles ? 429 : null;
        if (refuse !== null) {
          req.resume();
          res.writeHead(refuse, { 'content-type': 'application/json', 'x-ms-retry-after-ms': '1234' });
          res.end(JSON.stringify({ code: refuse === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'refused by the test' }));
          return;
        }
      }
      for (const h of handlers) h.call(server, req, res);
    });
    client = new CosmosClient({
      endpoint: cosmos.endpoint,
      key: cosmos.key,
      agent: cosmos.agent,
      connectionPolicy: { retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 } },
    });
    containers = await ensureArchiveContainers(client, `db-${randomUUID().slice(0, 8)}`);
  });

  afterAll(async () => {
    client?.dispose();
    await cosmos?.close();
  });

  it('creates 30 documents received together in one bulk request; each is readable once and intact', async () => {
    const store = new CosmosArchiveStore(containers.transcripts);
    const jobs = Array.from({ length: 30 }, (_, i) => job(`call ${i}`));
    const before = { ...requests };
    const results = await Promise.all(jobs.map((j) => store.write(toDocument(j, Date.now()), encodeJob(j).length)));
    expect(results).toEqual(Array(30).fill('created'));
    expect(requests.bulk - before.bulk).toBe(1);
    expect(requests.single - before.single).toBe(0);
    for (const j of jobs) {
      const doc = await store.getTranscript(j.callId);
      expect(doc?.turns).toEqual(j.turns);
      expect(doc?.id).toBe(j.callId);
    }
  });

  it('a redelivered job changes nothing; newer content for the same call replaces it', async () => {
    const store = new CosmosArchiveStore(containers.transcripts);
    const first = job('first');
    expect(await store.write(toDocument(first, Date.now()), 500)).toBe('created');
    const [again, newer] = await Promise.all([
      store.write(toDocument(first, Date.now()), 500),
      store.write(toDocument({ ...first, turns: [...first.turns, { seq: 99, speaker: 'user', text: 'one more', at: Date.now() }] } as ArchiveJob, Date.now()), 500),
    ]);
    expect(again).toBe('unchanged');
    expect(newer).toBe('replaced');
    expect((await store.getTranscript(first.callId))?.turns.at(-1)?.text).toBe('one more');
  });

  it('a document over the bulk size limit is created with a request of its own', async () => {
    const store = new CosmosArchiveStore(containers.transcripts);
    const big = job('x'.repeat(2000), 200);
    const bytes = encodeJob(big).length;
    expect(bytes).toBeGreaterThan(BULK_DOC_MAX_BYTES);
    const before = { ...requests };
    expect(await store.write(toDocument(big, Date.now()), bytes)).toBe('created');
    expect(requests.bulk - before.bulk).toBe(0);
    expect(requests.single - before.single).toBe(1);
  });

  it('a failed bulk request is redone singly, then creates go singly for a cool-down', async () => {
    let now = 1_000_000;
    const pauses: number[] = [];
    const store = new CosmosArchiveStore(containers.transcripts, { now: () => now, onBulkPaused: (_err, ms) => pauses.push(ms) });
    const jobs = Array.from({ length: 5 }, (_, i) => job(`fallback ${i}`));
    failBulk = 503;
    const before = { ...requests };
    try {
      const results = await Promise.all(jobs.map((j) => store.write(toDocument(j, Date.now()), 500)));
      expect(results).toEqual(Array(5).fill('created'));
      expect(requests.bulk - before.bulk).toBe(1);
      expect(requests.single - before.single).toBe(5);
      expect(pauses).toEqual([30_000]); // reported once per failed request, not per document
      // Within the cool-down, no bulk request is tried.
      const more = job('during cool-down');
      expect(await store.write(toDocument(more, Date.now()), 500)).toBe('created');
      expect(requests.bulk - before.bulk).toBe(1);
    } finally {
      failBulk = null;
    }
    now += 30_001; // the cool-down is over: bulk again
    const later = [job('after 1'), job('after 2')];
    const mid = { ...requests };
    expect(await Promise.all(later.map((j) => store.write(toDocument(j, Date.now()), 500)))).toEqual(['created', 'created']);
    expect(requests.bulk - mid.bulk).toBe(1);
    expect(requests.single - mid.single).toBe(0);
    for (const j of [...jobs, ...later]) expect((await store.getTranscript(j.callId))?.turns).toEqual(j.turns);
  });

  it('throttling reaches the processor with the server retry-after, and nothing is written', async () => {
    const store = new CosmosArchiveStore(containers.transcripts);
    const processor = new ArchiveProcessor({ store, sessions: null, claims: null, registry: createRegistry({ defaultMetrics: false }) });
    const j = job('throttled');
    failBulk = 429;
    throttleSingles = true;
    try {
      const r = await processor.process(encodeJob(j), {}, 1);
      expect(r).toEqual({ kind: 'retry', afterMs: 1234, reason: 'throttled' });
    } finally {
      failBulk = null;
      throttleSingles = false;
    }
    expect(await store.getTranscript(j.callId)).toBeNull();
    const r2 = await processor.process(encodeJob(j), {}, 2);
    expect(r2).toMatchObject({ kind: 'archived', write: 'created', callId: j.callId });
  });
});
