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
    ...(job.counters.realtimeAudioInMs !== undefined ? { usage: usageOf(job.counters) } : {}),
  };
}

/** A realtime call's usage, from the archive job's counters (realtime-wiring.ts writes them). */
function usageOf(c: Readonly<Record<string, number>>): NonNullable<CallSummary['usage']> {
  return {
    audioInS: (c.realtimeAudioInMs ?? 0) / 1000,
    audioOutS: (c.realtimeAudioOutMs ?? 0) / 1000,
    inputTokens: c.realtimeInputTokens ?? 0,
    outputTokens: c.realtimeOutputTokens ?? 0,
  };
}

