// Outages: Service Bus unreachable while calls end (spool, then drain), the archiver killed with
// messages locked (redelivery after lock expiry, archived once), and a store slower than the lock
// duration (locks kept, nothing redelivered).
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, QUEUE, type Rig } from './archive-rig.js';

describe('archive pipeline outages', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('spools jobs while Service Bus is down and archives each once after it returns', async () => {
    rig = await startRig({ peer: { lockDurationMs: 5000 } });
    const r = rig;
    await r.endCall(2); // connection up and sender attached before the outage
    await waitFor(async () => (await r.writes('created')) >= 1, 10_000, 'warm-up call archived');
    await r.peer.stop();
    const ended = await Promise.all(Array.from({ length: 50 }, () => r.endCall(4)));
    expect(r.queue.spoolDepth).toBe(50);
    const spoolWrites = await r.registry.getSingleMetric('voice_archive_spool_writes_total')?.get();
    expect(spoolWrites?.values[0]?.value).toBe(50);
    await r.peer.start();
    await waitFor(async () => (await r.writes('created')) >= 51, 45_000, '50 spooled calls archived');
    expect(r.queue.spoolDepth).toBe(0);
    const docs = await r.allTranscripts();
    expect(docs).toHaveLength(51);
    for (const c of ended) expect(docs.find((d) => d.id === c.callId)?.turns).toEqual(c.turns);
    expect(await r.writes('replaced')).toBe(0);
  });

  it('redelivers what a killed archiver held locked and archives it once', async () => {
    rig = await startRig({ peer: { lockDurationMs: 1500 }, concurrency: 8, startArchiver: false });
    const r = rig;
    // Slow every Cosmos write so that messages are in flight (locked) when the archiver dies.
    r.interceptCosmos((req, _res, next) => {
      if (req.method === 'POST' && (req.url ?? '').endsWith('/docs')) setTimeout(next, 400);
      else next();
    });
    const ended = await Promise.all(Array.from({ length: 40 }, () => r.endCall(3)));
    r.archiver.start();
    await waitFor(() => r.peer.locked(QUEUE) >= 8, 10_000, 'messages locked by the first archiver');
    await r.archiver.abort();
    r.archiver = r.newArchiver();
    r.archiver.start();
    await waitFor(async () => (await r.allTranscripts()).length >= 40 && r.peer.depth(QUEUE) === 0 && r.peer.locked(QUEUE) === 0, 45_000, 'all archived');
    const docs = await r.allTranscripts();
    expect(docs).toHaveLength(40);
    for (const c of ended) expect(docs.find((d) => d.id === c.callId)?.turns).toEqual(c.turns);
    expect(await r.writes('created')).toBe(40);
    expect(await r.writes('replaced')).toBe(0);
    expect(r.peer.deadLetters(QUEUE)).toHaveLength(0);
  });

  it('keeps the locks of messages held longer than the lock duration: none redelivered', async () => {
    rig = await startRig({ peer: { lockDurationMs: 1500 }, concurrency: 4, startArchiver: false });
    const r = rig;
    // Every transcript write takes longer than the lock lasts; the archiver must renew to keep it.
    r.interceptCosmos((req, _res, next) => {
      if (req.method === 'POST' && (req.url ?? '').endsWith('/docs')) setTimeout(next, 3500);
      else next();
    });
    const ended = await Promise.all(Array.from({ length: 8 }, () => r.endCall(2)));
    r.archiver.start();
    await waitFor(async () => (await r.writes('created')) >= 8 && r.peer.locked(QUEUE) === 0, 30_000, 'all archived');
    const docs = await r.allTranscripts();
    for (const c of ended) expect(docs.find((d) => d.id === c.callId)?.turns).toEqual(c.turns);
    expect(await r.writes('unchanged')).toBe(0); // no second delivery was processed
    const settled = await r.registry.getSingleMetric('voice_archive_settlements_total')?.get();
    expect(settled?.values.find((v) => v.labels.action === 'complete')?.value).toBe(8);
    expect(settled?.values.find((v) => v.labels.action === 'complete-failed')?.value ?? 0).toBe(0);
    expect(r.peer.completed(QUEUE)).toBe(8);
  });
});
