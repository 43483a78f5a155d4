// The archive pipeline end to end against the real SDKs: finalizer → Service Bus (local AMQP peer)
// → archiver → Cosmos (embedded server). Exactly-once results, large transcripts, poison messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, waitFor, QUEUE, type Rig } from './archive-rig.js';

describe('archive pipeline (Service Bus → Cosmos)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig.close();
  });

  it('archives 200 calls, each transcript once and equal to what was spoken', async () => {
    const ended = await Promise.all(Array.from({ length: 200 }, () => rig.endCall(6)));
    await waitFor(async () => (await rig.writes('created')) >= 200, 30_000, '200 archived');
    const docs = await rig.allTranscripts();
    expect(docs).toHaveLength(200);
    const byId = new Map(docs.map((d) => [d.id, d]));
    for (const call of ended) {
      const doc = byId.get(call.callId);
      expect(doc?.turns).toEqual(call.turns);
      expect(doc?.outcome).toBe('caller-hangup');
      expect(doc?.counters.turns).toBe(6);
    }
    expect(await rig.writes('replaced')).toBe(0);
    // The archiver settles a message after its Cosmos write returns: the last completions can land a
    // moment after the 200th write. Wait for them, then require exactly 200 (no job settled twice).
    await waitFor(() => rig.peer.completed(QUEUE) >= 200 && rig.peer.locked(QUEUE) === 0, 10_000, '200 settled');
    expect(rig.peer.completed(QUEUE)).toBe(200);
    const summary = await rig.sessions.getSummary(ended[0]!.callId);
    expect(summary).toMatchObject({ archived: true, turnCount: 6, outcome: 'caller-hangup' });
  });

  it('a redelivered job changes nothing', async () => {
    const { callId } = await rig.endCall(2);
    await waitFor(async () => (await rig.store.getTranscript(callId)) !== null, 10_000, 'first archive');
    const before = await rig.store.getTranscript(callId);
    const unchangedBefore = await rig.writes('unchanged');
    const json = Buffer.from(JSON.stringify({ ...before, id: undefined, archivedAt: undefined, contentHash: undefined }));
    const job = JSON.parse(json.toString()) as Record<string, unknown>;
    delete job.id;
    delete job.archivedAt;
    delete job.contentHash;
    // Another messageId: past the queue's duplicate detection (window elapsed, or a resend), the archiver itself must be idempotent.
    await rig.sb.createSender(QUEUE).sendMessages({ messageId: `${callId}-resent`, body: Buffer.from(JSON.stringify(job)), applicationProperties: { 'job-version': 1 } });
    await waitFor(async () => (await rig.writes('unchanged')) > unchangedBefore, 10_000, 'redelivery handled');
    expect(await rig.store.getTranscript(callId)).toEqual(before);
  });

  it('the queue drops a repeat of a job by messageId (Service Bus duplicate detection)', async () => {
    const { callId } = await rig.endCall(2);
    await waitFor(async () => (await rig.store.getTranscript(callId)) !== null, 10_000, 'first archive');
    const dropped = rig.peer.duplicatesDropped;
    const completed = rig.peer.completed(QUEUE);
    await rig.sb.createSender(QUEUE).sendMessages({ messageId: callId, body: Buffer.from('{}'), applicationProperties: { 'job-version': 1 } });
    await waitFor(() => rig.peer.duplicatesDropped > dropped, 5_000, 'repeat dropped');
    expect(rig.peer.depth(QUEUE)).toBe(0);
    expect(rig.peer.completed(QUEUE)).toBe(completed);
  });

  it('round-trips a 2 MB transcript intact (gzip + claim check)', async () => {
    const { callId, turns } = await rig.endCall(200, 10_500);
    const bytes = turns.reduce((n, t) => n + t.text.length, 0);
    expect(bytes).toBeGreaterThan(2_000_000);
    await waitFor(async () => (await rig.store.getTranscript(callId)) !== null, 20_000, 'large transcript archived');
    const doc = await rig.store.getTranscript(callId);
    expect(doc?.turns).toEqual(turns);
    // The claim is removed once the transcript is archived.
    const claim = await rig.containers.claims.item(callId, callId).read();
    expect(claim.statusCode).toBe(404);
  });

  it('dead-letters a poison message with its reason', async () => {
    const sender = rig.sb.createSender(QUEUE);
    await sender.sendMessages({ messageId: 'poison-1', body: Buffer.from(JSON.stringify({ version: 99, callId: 'poison-1' })) });
    // One at a time: rhea merges back-to-back dispositions of adjacent deliveries into one frame
    // carrying the first one's state, which would give both the same reason.
    await waitFor(() => rig.peer.deadLetters(QUEUE).length >= 1, 10_000, 'first dead letter');
    await sender.sendMessages({ messageId: 'poison-2', body: Buffer.from('not json {') });
    await waitFor(() => rig.peer.deadLetters(QUEUE).length >= 2, 10_000, 'dead letters');
    const dead = rig.peer.deadLetters(QUEUE);
    const v99 = dead.find((m) => m.messageId === 'poison-1');
    expect(v99?.deadLetterReason).toBe('InvalidJob');
    expect(v99?.deadLetterDescription).toContain('unknown job version 99');
    expect(dead.find((m) => m.messageId === 'poison-2')?.deadLetterReason).toBe('UnreadableJob');
    expect(await rig.store.getTranscript('poison-1')).toBeNull();
  });
});

describe('local AMQP peer', () => {
  it('refuses a put-token signed with the wrong key', async () => {
    const { AmqpPeer } = await import('../support/amqp-peer.js');
    const { ServiceBusClient } = await import('@azure/service-bus');
    const peer = await AmqpPeer.start();
    const bad = new ServiceBusClient(peer.connectionString(Buffer.from('wrong key').toString('base64')), {
      retryOptions: { maxRetries: 0, timeoutInMs: 3000 },
    });
    try {
      await expect(bad.createSender('q').sendMessages({ body: 'x' })).rejects.toThrow();
      expect(peer.cbsRejected).toBeGreaterThan(0);
      expect(peer.depth('q')).toBe(0);
    } finally {
      await bad.close().catch(() => undefined);
      await peer.close();
    }
  });
});

describe('local AMQP peer delivery count', () => {
  it('dead-letters a message abandoned up to the max delivery count', async () => {
    const { AmqpPeer } = await import('../support/amqp-peer.js');
    const { ServiceBusClient } = await import('@azure/service-bus');
    const peer = await AmqpPeer.start({ maxDeliveryCount: 3 });
    const client = new ServiceBusClient(peer.connectionString());
    try {
      await client.createSender('q').sendMessages({ messageId: 'm', body: Buffer.from('{}') });
      const receiver = client.createReceiver('q', { receiveMode: 'peekLock', skipParsingBodyAsJson: true });
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
        counts.push(m!.deliveryCount ?? -1);
        await receiver.abandonMessage(m!);
      }
      expect(counts).toEqual([0, 1, 2]);
      expect(peer.depth('q')).toBe(0);
      expect(peer.deadLetters('q').map((m) => m.deadLetterReason)).toEqual(['MaxDeliveryCountExceeded']);
    } finally {
      await client.close();
      await peer.close();
    }
  });
});
