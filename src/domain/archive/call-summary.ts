// The call summary of an archived call: what the archiver caches in Redis once the transcript is
// written, and what a summary read rebuilds from the archived transcript once that cache expired.
import type { ArchiveJob } from '../archive-job.js';
import type { CallSummary } from '../call-records.js';

export function summaryOf(job: ArchiveJob): CallSummary {
  return {
    callId: job.callId,
    outcome: job.outcome,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    durationMs: job.endedAt - job.startedAt,
    turnCount: job.counters.turns ?? job.turns.length,
    bargeIns: job.bargeIns.length,
    archived: true,
  };
}
