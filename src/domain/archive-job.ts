// The archive job: everything about a finished call that the archive keeps. Versioned so an old
// archiver can refuse (dead-letter) a job it does not understand instead of writing it wrongly.
import type { CallOutcome } from './call-records.js';
import type { Turn } from './conversation.js';

export const ARCHIVE_JOB_VERSION = 1;

export interface ArchiveJob {
  readonly version: number;
  readonly callId: string;
  readonly callConnectionId: string | null;
  readonly correlationId: string | null;
  /** Caller and callee raw ids (e.g. 4:+14255550123 or 8:acs:...). Never logged. */
  readonly caller: string;
  readonly callee: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: CallOutcome;
  readonly turns: readonly Turn[];
  readonly bargeIns: readonly { readonly at: number; readonly turnSeq: number; readonly playedMs: number }[];
  /** Keypad inputs, masked (`[dtmf ****]`) with their tone count; never the tones in clear. */
  readonly dtmf: readonly { readonly at: number; readonly tone: string; readonly count?: number }[];
  readonly counters: Readonly<Record<string, number>>;
  /** The call's tenant, resolved at admission (absent in jobs of older workers: the default tenant). */
  readonly tenantId?: string;
  /** Absent in jobs of older workers: inbound. */
  readonly direction?: 'inbound' | 'outbound';
}

/** The stored form in the archive (Cosmos `transcripts` container). */
export interface TranscriptDocument extends ArchiveJob {
  readonly id: string;
  readonly archivedAt: number;
  /** sha256 of the job's canonical JSON: a redelivery of the same job changes nothing. */
  readonly contentHash?: string;
}
