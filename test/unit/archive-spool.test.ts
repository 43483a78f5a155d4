import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSpool } from '../../src/adapters/spool/file-spool.js';
import { ArchiveProcessor } from '../../src/adapters/servicebus/archive-processor.js';
import { MemoryClaimStore } from '../../src/adapters/cosmos/cosmos-claim-store.js';
import { packJob, unpackJob, encodeJob } from '../../src/adapters/servicebus/job-codec.js';
import { createRegistry } from '../../src/metrics.js';
import { DEFAULT_MESSAGE_LIMITS } from '../../src/domain/archive/message-plan.js';
import { ARCHIVE_JOB_VERSION, type ArchiveJob, type TranscriptDocument } from '../../src/domain/archive-job.js';

const job = (callId: string, text = 'hi'): ArchiveJob => ({
  version: ARCHIVE_JOB_VERSION,
  callId,
  callConnectionId: null,
  correlationId: null,
  caller: '4:+1',
  callee: '4:+2',
  startedAt: 1,
  endedAt: 2,
  outcome: 'completed',
  turns: [{ seq: 1, speaker: 'user', text, at: 1 }],
  bargeIns: [],
  dtmf: [],
  counters: { turns: 1 },
});

describe('file spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps entries across instances (a restart), in spool order, until removed', async () => {
    const a = new FileSpool(dir);
    await a.write('c1', Buffer.from('one'));
    await a.write('c2', Buffer.from('two'));
    const b = new FileSpool(dir);
    const entries = await b.list();
    expect(entries.map((e) => e.id)).toEqual(['c1', 'c2']);
    expect((await b.read(entries[0]!.name)).toString()).toBe('one');
    await b.remove(entries[0]!.name);
    expect(b.depth).toBe(1);
    expect((await new FileSpool(dir).list()).map((e) => e.id)).toEqual(['c2']);
  });

  it('ignores a temp file left by a crash mid-write and refuses unsafe ids', async () => {
    await writeFile(join(dir, '.000-1-000000-x.job.tmp'), 'partial');
    const s = new FileSpool(dir);
    expect(await s.list()).toEqual([]);
    await expect(s.write('../escape', Buffer.from('x'))).rejects.toThrow('unsafe');
    expect((await readdir(dir)).length).toBe(1);
  });
});

class FakeWriter {
  docs = new Map<string, TranscriptDocument>();
  failures: unknown[] = [];
  async write(doc: TranscriptDocument) {
    const f = this.failures.shift();
    if (f) throw f;
    const prev = this.docs.get(doc.id);
    if (prev && prev.contentHash === doc.contentHash) return 'unchanged' as const;
    this.docs.set(doc.id, doc);
    return prev ? ('replaced' as const) : ('created' as const);
  }
  async getTranscript(id: string) {
    return this.docs.get(id) ?? null;
  }
}

describe('archive processor', () => {
  it('writes once, reports redelivery as unchanged, and retries throttling after retry-after', async () => {
    const store = new FakeWriter();
    const p = new ArchiveProcessor({ store, sessions: null, claims: null, registry: createRegistry({ defaultMetrics: false }) });
    const body = encodeJob(job('a'));
    store.failures.push({ code: 429, retryAfterInMs: 750 });
    expect(await p.process(body, {}, 1)).toEqual({ kind: 'retry', afterMs: 750, reason: 'throttled' });
    expect(await p.process(body, {}, 2)).toMatchObject({ kind: 'archived', write: 'created' });
    expect(await p.process(body, {}, 1)).toMatchObject({ kind: 'archived', write: 'unchanged' });
    store.failures.push({ code: 503 });
    expect(await p.process(body, {}, 1)).toMatchObject({ kind: 'retry', reason: 'throttled' });
    store.failures.push({ code: 400 });
    expect(await p.process(body, {}, 1)).toMatchObject({ kind: 'poison', reason: 'StoreRejected' });
  });

  it('dead-letters unreadable and unknown-version jobs with a reason', async () => {
    const p = new ArchiveProcessor({ store: new FakeWriter(), sessions: null, claims: null, registry: createRegistry({ defaultMetrics: false }) });
    expect(await p.process(Buffer.from('{'), {}, 1)).toMatchObject({ kind: 'poison', reason: 'UnreadableJob' });
    expect(await p.process(Buffer.from(JSON.stringify({ ...job('b'), version: 7 })), {}, 1)).toMatchObject({
      kind: 'poison',
      reason: 'InvalidJob',
      description: expect.stringContaining('unknown job version 7'),
    });
    expect(await p.process(Buffer.from('x'), { 'content-encoding': 'br' }, 1)).toMatchObject({ kind: 'poison' });
  });

  it('packs large jobs with gzip and oversized ones through a claim check, and reads them back', async () => {
    const claims = new MemoryClaimStore();
    const small = await packJob('s', encodeJob(job('s')), DEFAULT_MESSAGE_LIMITS, claims);
    expect(small.props['content-encoding']).toBeUndefined();
    const mid = await packJob('m', encodeJob(job('m', 'abc '.repeat(20_000))), DEFAULT_MESSAGE_LIMITS, claims);
    expect(mid.props['content-encoding']).toBe('gzip');
    expect(mid.claimCheck).toBe(false);
    const random = Array.from({ length: 400_000 }, () => Math.random().toString(36).slice(2, 3)).join('');
    const big = await packJob('b', encodeJob(job('b', random)), DEFAULT_MESSAGE_LIMITS, claims);
    expect(big.claimCheck).toBe(true);
    expect(big.body.length).toBeLessThan(100);
    const back = await unpackJob(big.body, big.props, claims);
    expect(back.ok && (back.value as ArchiveJob).turns[0]?.text).toBe(random);
    await expect(packJob('b2', encodeJob(job('b2', random)), DEFAULT_MESSAGE_LIMITS, null)).rejects.toThrow('claim store');
  });
});
