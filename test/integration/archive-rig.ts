// Shared setup for the archive integration tests: the real @azure/cosmos SDK against the embedded
// server (HTTPS), the real @azure/service-bus SDK against the local AMQP peer, a spool directory,
// and helpers that end calls the way the lifecycle does (LiveCall + conversation store + finalizer).
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import { ServiceBusClient } from '@azure/service-bus';
import { startCosmosServer, type CosmosServer } from '../support/cosmos-server.js';
import { AmqpPeer, type AmqpPeerOptions } from '../support/amqp-peer.js';
import { createRegistry, type Registry } from '../../src/metrics.js';
import { silentLogger } from '../../src/logger.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { MemoryConversationStore } from '../../src/adapters/memory/memory-conversation-store.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { ensureArchiveContainers, type ArchiveContainers } from '../../src/adapters/cosmos/cosmos-containers.js';
import { CosmosArchiveStore } from '../../src/adapters/cosmos/cosmos-archive-store.js';
import { CosmosClaimStore } from '../../src/adapters/cosmos/cosmos-claim-store.js';
import { FileSpool } from '../../src/adapters/spool/file-spool.js';
import { ArchiveProcessor } from '../../src/adapters/servicebus/archive-processor.js';
import { ServiceBusArchiveQueue } from '../../src/adapters/servicebus/servicebus-archive-queue.js';
import { ServiceBusArchiver, DEFAULT_ARCHIVER_CONFIG } from '../../src/adapters/servicebus/servicebus-archiver.js';
import { createArchiveFinalizer, type CallFinalizer } from '../../src/domain/archive/archive-finalizer.js';
import { LiveCall } from '../../src/domain/live-call.js';
import type { Turn } from '../../src/domain/conversation.js';
import type { TranscriptDocument } from '../../src/domain/archive-job.js';

export const QUEUE = 'call-archive';

export interface Rig {
  readonly cosmos: CosmosServer;
  readonly cosmosClient: CosmosClient;
  readonly containers: ArchiveContainers;
  readonly store: CosmosArchiveStore;
  readonly peer: AmqpPeer;
  readonly sb: ServiceBusClient;
  readonly registry: Registry;
  readonly sessions: MemorySessionStore;
  readonly conversations: MemoryConversationStore;
  readonly spool: FileSpool;
  readonly queue: ServiceBusArchiveQueue;
  readonly processor: ArchiveProcessor;
  readonly finalizer: CallFinalizer;
  archiver: ServiceBusArchiver;
  newArchiver(): ServiceBusArchiver;
  /** Ends a call with `turns` spoken; returns the turns. */
  endCall(turns?: number, textBytes?: number): Promise<{ callId: string; turns: Turn[] }>;
  /** Counts upserts by result from the metrics registry. */
  writes(result: 'created' | 'unchanged' | 'replaced'): Promise<number>;
  allTranscripts(): Promise<TranscriptDocument[]>;
  /** Wraps the Cosmos server's request handler. */
  interceptCosmos(wrap: (req: IncomingMessage, res: ServerResponse, next: () => void) => void): void;
  close(): Promise<void>;
}

export async function startRig(opts: { peer?: AmqpPeerOptions; concurrency?: number; startArchiver?: boolean } = {}): Promise<Rig> {
  const cosmos = await startCosmosServer();
  const cosmosClient = new CosmosClient({
    endpoint: cosmos.endpoint,
    key: cosmos.key,
    agent: cosmos.agent,
    connectionPolicy: { retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 } },
  });
  const containers = await ensureArchiveContainers(cosmosClient, `db-${randomUUID().slice(0, 8)}`);
  const store = new CosmosArchiveStore(containers.transcripts);
  const claims = new CosmosClaimStore(containers.claims);
  const peer = await AmqpPeer.start(opts.peer);
  const sb = new ServiceBusClient(peer.connectionString(), {
    retryOptions: { maxRetries: 1, timeoutInMs: 2000, retryDelayInMs: 100, maxRetryDelayInMs: 500 },
  });
  const registry = createRegistry({ defaultMetrics: false });
  const log = silentLogger();
  const sessions = new MemorySessionStore({ clock: systemClock }, { dedup: 3600, auth: 900, session: 7200, summary: 604_800 });
  const conversations = new MemoryConversationStore({ clock: systemClock }, { ttl: { context: 1800, history: 7200 }, historyMaxTurns: 10_000 });
  const dir = await mkdtemp(join(tmpdir(), 'archive-spool-'));
  const spool = new FileSpool(dir);
  const processor = new ArchiveProcessor({ store, sessions, claims, registry });
  const queue = new ServiceBusArchiveQueue(
    { sender: sb.createSender(QUEUE), spool, claims, registry, log },
    { sendTimeoutMs: 3000, drainMinMs: 100, drainMaxMs: 1000 },
  );
  queue.start();
  const finalizer = createArchiveFinalizer({ queue, conversations, clock: systemClock });
  const newArchiver = () =>
    new ServiceBusArchiver(
      { client: sb, processor, registry, log },
      { ...DEFAULT_ARCHIVER_CONFIG, queue: QUEUE, concurrency: opts.concurrency ?? 16, receiveWaitMs: 500 },
    );
  const archiver = newArchiver();
  if (opts.startArchiver !== false) archiver.start();

  const rig: Rig = {
    cosmos,
    cosmosClient,
    containers,
    store,
    peer,
    sb,
    registry,
    sessions,
    conversations,
    spool,
    queue,
    processor,
    finalizer,
    archiver,
    newArchiver,
    async endCall(turns = 4, textBytes = 40) {
      const callId = randomUUID();
      const started = Date.now() - 60_000;
      const call = new LiveCall({ callId, from: '4:+14255550123', to: '4:+14255550199', correlationId: randomUUID(), startedAt: started, log });
      const spoken: Turn[] = [];
      for (let i = 1; i <= turns; i++) {
        const speaker = i % 2 === 1 ? 'user' : 'assistant';
        const text = `${speaker} ${i} of ${callId}: ${'lorem ipsum dolor sit amet '.repeat(Math.ceil(textBytes / 27))}`.slice(0, Math.max(textBytes, 50));
        const turn: Turn = { seq: i, speaker, text, at: started + i * 1000, ...(speaker === 'user' ? { kind: 'speech' as const, confidence: 0.9 } : {}) };
        await conversations.appendTurn(callId, turn);
        spoken.push(turn);
      }
      call.nextSeq = turns + 1;
      await finalizer(call, 'caller-hangup');
      return { callId, turns: spoken };
    },
    async writes(result) {
      const m = await registry.getSingleMetric('voice_archive_results_total')?.get();
      return m?.values.find((v) => v.labels.result === result)?.value ?? 0;
    },
    async allTranscripts() {
      const { resources } = await containers.transcripts.items.query<TranscriptDocument>('SELECT * FROM c').fetchAll();
      return resources;
    },
    interceptCosmos(wrap) {
      const server = cosmos.server;
      const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
      server.removeAllListeners('request');
      server.on('request', (req: IncomingMessage, res: ServerResponse) => wrap(req, res, () => handlers.forEach((h) => h.call(server, req, res))));
    },
    async close() {
      await rig.archiver.stop(2000).catch(() => undefined);
      await queue.stop();
      await sb.close().catch(() => undefined);
      await peer.close();
      cosmosClient.dispose();
      await cosmos.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
