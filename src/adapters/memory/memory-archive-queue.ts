// An ArchiveQueue that hands jobs straight to a consumer in process (bounded concurrency is the
// consumer's business). The archive issue replaces the default with Service Bus or the spooled
// in-process queue; this one is for unit tests.
import type { ArchiveJob } from '../../domain/archive-job.js';
import type { ArchiveQueue } from '../../domain/ports.js';

export class MemoryArchiveQueue implements ArchiveQueue {
  readonly jobs: ArchiveJob[] = [];
  async enqueue(job: ArchiveJob): Promise<void> {
    this.jobs.push(structuredClone(job));
  }
}
