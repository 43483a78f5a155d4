// The spool cannot silently drop: a failed spool write keeps the job in memory and retries it; a
// failed mkdir is not remembered forever; an entry that is not a job moves to dead-letter with its
// reason instead of blocking the entries after it. Real files in a temp dir; a fake Service Bus sender.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceBusSender } from '@azure/service-bus';
import { FileSpool } from '../../src/adapters/spool/file-spool.js';
import { ServiceBusArchiveQueue } from '../../src/adapters/servicebus/servicebus-archive-queue.js';
import { ARCHIVE_JOB_VERSION, type ArchiveJob } from '../../src/domain/archive-job.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';

const job = (callId: string): ArchiveJob => ({
  version: ARCHIVE_JOB_VERSION,
  callId,
  callConnectionId: null,
  correlationId: null,
  caller: '4:+1',
  callee: '4:+2',
  startedAt: 1,
  endedAt: 2,
  outcome: 'completed',
  turns: [{ seq: 1, speaker: 'user', text: 'hi', at: 1 }],
  bargeIns: [],
  dtmf: [],
  counters: { turns: 1 },
});

function fakeSender(state: { up: boolean; sent: string[] }): ServiceBusSender {
  return {
    createMessageBatch: async () => ({ maxSizeInBytes: 262_144 }),
    sendMessages: async (m: { messageId: string }) => {
      if (!state.up) throw new Error('service bus unreachable');
      state.sent.push(m.messageId);
    },
    close: async () => undefined,
  } as unknown as ServiceBusSender;
}

const until = async (probe: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('spool faults', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-faults-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a failed mkdir is tried again on the next write', async () => {
    const blocker = join(dir, 'blocked');
    await writeFile(blocker, 'a file where the spool dir should be');
    const spool = new FileSpool(join(blocker, 'spool'));
    await expect(spool.write('c1', Buffer.from('{}'))).rejects.toThrow();
    await rm(blocker);
    await spool.write('c1', Buffer.from('{}'));
    expect(spool.depth).toBe(1);
  });

  it('a job neither Service Bus nor the spool takes is kept in memory, counted, and spooled once the disk is back', async () => {
    const blocker = join(dir, 'blocked');
    await writeFile(blocker, 'x');
    const spool = new FileSpool(join(blocker, 'spool'));
    const state = { up: false, sent: [] as string[] };
    const registry = createRegistry({ defaultMetrics: false });
    const q = new ServiceBusArchiveQueue({ sender: fakeSender(state), spool, claims: null, registry, log: silentLogger() }, { sendTimeoutMs: 500, drainMinMs: 20, drainMaxMs: 100 });
    q.start();
    await q.enqueue(job('c-held'));
    expect(q.unspooled).toBe(1);
    expect((await registry.getSingleMetric('voice_archive_spool_write_failures_total')?.get())?.values[0]?.value).toBeGreaterThanOrEqual(1);
    await rm(blocker);
    await until(() => spool.depth === 1 && q.unspooled === 0);
    state.up = true;
    await until(() => state.sent.includes('c-held'));
    await q.stop();
  });

  it('an entry that is not a job moves to dead-letter with its reason; the entries after it are sent', async () => {
    const spool = new FileSpool(dir);
    await spool.write('c-bad', Buffer.from('not json {'));
    await spool.write('c-good', Buffer.from(JSON.stringify(job('c-good'))));
    const state = { up: true, sent: [] as string[] };
    const q = new ServiceBusArchiveQueue({ sender: fakeSender(state), spool, claims: null, registry: createRegistry({ defaultMetrics: false }), log: silentLogger() }, { sendTimeoutMs: 500, drainMinMs: 20, drainMaxMs: 100 });
    q.start();
    await until(() => state.sent.includes('c-good'));
    await q.stop();
    expect(state.sent).toEqual(['c-good']);
    const dead = await readdir(join(dir, 'dead-letter'));
    const reason = dead.find((n) => n.endsWith('.reason')) as string;
    expect(dead.some((n) => n.endsWith('c-bad.job'))).toBe(true);
    expect(await readFile(join(dir, 'dead-letter', reason), 'utf8')).toMatch(/JSON/);
  });
});
