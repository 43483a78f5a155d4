// Builds the archive job of a finished call from what the worker holds: the LiveCall (identity,
// times), the conversation (turns) and the markers recorded during the call (barge-ins, DTMF).
// Markers not recorded live are derived from the turns, so a job is complete either way.
import { ARCHIVE_JOB_VERSION, type ArchiveJob } from '../archive-job.js';
import type { CallOutcome } from '../call-records.js';
import type { ConversationState, Turn } from '../conversation.js';
import type { LiveCall } from '../live-call.js';

export interface BargeInMarker {
  readonly at: number;
  readonly turnSeq: number;
  readonly playedMs: number;
}

export interface DtmfMarker {
  readonly at: number;
  readonly tone: string;
}

/** Markers collected while the call was live (see trackCallForArchive). */
export interface CallMarkers {
  readonly bargeIns: BargeInMarker[];
  readonly dtmf: DtmfMarker[];
}

const markers = new WeakMap<LiveCall, CallMarkers>();

/** Records barge-ins and DTMF tones of a live call for its archive job. Idempotent per call. */
export function trackCallForArchive(call: LiveCall): CallMarkers {
  const existing = markers.get(call);
  if (existing) return existing;
  const m: CallMarkers = { bargeIns: [], dtmf: [] };
  markers.set(call, m);
  call.events.on('bargeIn', (e) => m.bargeIns.push({ at: e.at, turnSeq: Math.max(0, call.nextSeq - 1), playedMs: e.playedMs }));
  call.events.on('dtmf', (e) => m.dtmf.push({ at: e.at, tone: e.tone }));
  return m;
}

export function markersOf(call: LiveCall): CallMarkers | undefined {
  return markers.get(call);
}

export interface BuildJobInput {
  readonly call: Pick<LiveCall, 'callId' | 'from' | 'to' | 'startedAt' | 'callConnectionId' | 'correlationId'>;
  readonly conversation: ConversationState;
  readonly outcome: CallOutcome;
  readonly endedAt: number;
  readonly markers?: CallMarkers;
  readonly extraCounters?: Readonly<Record<string, number>>;
}

function derivedBargeIns(turns: readonly Turn[]): BargeInMarker[] {
  return turns
    .filter((t) => t.speaker === 'assistant' && t.interrupted === true)
    .map((t) => ({ at: t.at + (t.playedMs ?? 0), turnSeq: t.seq, playedMs: t.playedMs ?? 0 }));
}

function derivedDtmf(turns: readonly Turn[]): DtmfMarker[] {
  const out: DtmfMarker[] = [];
  for (const t of turns) {
    if (t.speaker === 'user' && t.kind === 'dtmf') for (const tone of t.text) out.push({ at: t.at, tone });
  }
  return out;
}

export function buildArchiveJob(input: BuildJobInput): ArchiveJob {
  const turns = [...input.conversation.history].sort((a, b) => a.seq - b.seq);
  const bargeIns = input.markers && input.markers.bargeIns.length > 0 ? [...input.markers.bargeIns] : derivedBargeIns(turns);
  const dtmf = input.markers && input.markers.dtmf.length > 0 ? [...input.markers.dtmf] : derivedDtmf(turns);
  const endedAt = Math.max(input.endedAt, input.call.startedAt);
  const counters: Record<string, number> = {
    turns: input.conversation.turnCount,
    archivedTurns: turns.length,
    userTurns: turns.filter((t) => t.speaker === 'user').length,
    assistantTurns: turns.filter((t) => t.speaker === 'assistant').length,
    bargeIns: bargeIns.length,
    dtmfTones: dtmf.length,
    durationMs: endedAt - input.call.startedAt,
    ...input.extraCounters,
  };
  return {
    version: ARCHIVE_JOB_VERSION,
    callId: input.call.callId,
    callConnectionId: input.call.callConnectionId,
    correlationId: input.call.correlationId,
    caller: input.call.from,
    callee: input.call.to,
    startedAt: input.call.startedAt,
    endedAt,
    outcome: input.outcome,
    turns,
    bargeIns,
    dtmf,
    counters,
  };
}
