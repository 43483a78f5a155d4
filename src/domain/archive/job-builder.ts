// Builds the archive job of a finished call from what the worker holds: the LiveCall (identity,
// times), the conversation (turns) and the markers recorded during the call (barge-ins, DTMF).
// Markers not recorded live are derived from the turns, so a job is complete either way.
//
// DTMF may be a PIN: no tone is ever kept in clear. A marker is one keypad input (the tones up to and
// including a '#' or '*', or until a pause) stored as `[dtmf ****]` — the same mask as the user turn —
// with a count of tones. Markers derived from the turns take the turn's masked text as it is.
import { ARCHIVE_JOB_VERSION, type ArchiveJob } from '../archive-job.js';
import { maskDtmf } from '../turn/turn-policy.js';
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
  /** Always masked: `[dtmf ****]` (one * per digit, terminators not shown). Named `tone` for archive v1. */
  readonly tone: string;
  /** Tones in this input (terminator included). */
  readonly count: number;
}

/** A pause after which the next tone starts a new input. */
const DTMF_INPUT_GAP_MS = 5000;
const MASKED = /^\[dtmf \**\]$/;

/** Markers collected while the call was live (see trackCallForArchive). */
export interface CallMarkers {
  readonly bargeIns: BargeInMarker[];
  readonly dtmf: DtmfMarker[];
  /** Counters a component measured live (e.g. realtime audio seconds, tokens); into the job's counters. */
  readonly counters: Record<string, number>;
}

const markers = new WeakMap<LiveCall, CallMarkers>();

/** Records barge-ins and DTMF tones of a live call for its archive job. Idempotent per call. */
export function trackCallForArchive(call: LiveCall): CallMarkers {
  const existing = markers.get(call);
  if (existing) return existing;
  const m: CallMarkers = { bargeIns: [], dtmf: [], counters: {} };
  markers.set(call, m);
  call.events.on('bargeIn', (e) => m.bargeIns.push({ at: e.at, turnSeq: Math.max(0, call.nextSeq - 1), playedMs: e.playedMs }));
  let open: { at: number; last: number; digits: number; count: number } | null = null;
  const marker = (g: { at: number; digits: number; count: number }): DtmfMarker => ({ at: g.at, tone: maskDtmf('*'.repeat(g.digits)), count: g.count });
  call.events.on('dtmf', (e) => {
    if (open && e.at - open.last > DTMF_INPUT_GAP_MS) open = null;
    if (!open) {
      open = { at: e.at, last: e.at, digits: 0, count: 0 };
      m.dtmf.push(marker(open));
    }
    const terminator = e.tone === '#' || e.tone === '*';
    open.last = e.at;
    open.count++;
    if (!terminator) open.digits++;
    // The open input's marker is kept current (a call may end mid-input).
    m.dtmf[m.dtmf.length - 1] = marker(open);
    if (terminator) open = null;
  });
  return m;
}

export function markersOf(call: LiveCall): CallMarkers | undefined {
  return markers.get(call);
}

export interface BuildJobInput {
  readonly call: Pick<LiveCall, 'callId' | 'from' | 'to' | 'startedAt' | 'callConnectionId' | 'correlationId'> & Partial<Pick<LiveCall, 'tenantId' | 'direction'>>;
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
    if (t.speaker !== 'user' || t.kind !== 'dtmf') continue;
    // The turn text is already masked; a legacy clear-text one is masked here.
    const masked = MASKED.test(t.text) ? t.text : maskDtmf(t.text.replace(/[#*]/g, ''));
    out.push({ at: t.at, tone: masked, count: masked.length - '[dtmf ]'.length });
  }
  return out;
}

/** A DTMF marker as it may be stored: legacy ones held a clear tone; mask those. */
export function maskedDtmfMarker(d: { readonly at: number; readonly tone: string; readonly count?: number }): DtmfMarker {
  if (MASKED.test(d.tone)) return { at: d.at, tone: d.tone, count: d.count ?? d.tone.length - '[dtmf ]'.length };
  const digits = d.tone.replace(/[#*]/g, '').length;
  return { at: d.at, tone: maskDtmf('*'.repeat(digits)), count: d.count ?? d.tone.length };
}

/** Turns of kind dtmf with their text masked (legacy documents may hold clear digits). */
function maskedTurns(turns: readonly Turn[]): Turn[] {
  return turns.map((t) => (t.speaker === 'user' && t.kind === 'dtmf' && !MASKED.test(t.text) ? { ...t, text: maskDtmf(t.text.replace(/[#*]/g, '')) } : t));
}

/** A stored transcript or job with every DTMF trace masked (what any route may return). */
export function withMaskedDtmf<T extends Pick<ArchiveJob, 'dtmf' | 'turns'>>(doc: T): T {
  return { ...doc, dtmf: doc.dtmf.map(maskedDtmfMarker), turns: maskedTurns(doc.turns) };
}

export function buildArchiveJob(input: BuildJobInput): ArchiveJob {
  const turns = maskedTurns([...input.conversation.history].sort((a, b) => a.seq - b.seq));
  const bargeIns = input.markers && input.markers.bargeIns.length > 0 ? [...input.markers.bargeIns] : derivedBargeIns(turns);
  const dtmf = (input.markers && input.markers.dtmf.length > 0 ? [...input.markers.dtmf] : derivedDtmf(turns)).map(maskedDtmfMarker);
  const endedAt = Math.max(input.endedAt, input.call.startedAt);
  const counters: Record<string, number> = {
    turns: input.conversation.turnCount,
    archivedTurns: turns.length,
    userTurns: turns.filter((t) => t.speaker === 'user').length,
    assistantTurns: turns.filter((t) => t.speaker === 'assistant').length,
    bargeIns: bargeIns.length,
    dtmfInputs: dtmf.length,
    dtmfTones: dtmf.reduce((n, d) => n + d.count, 0),
    durationMs: endedAt - input.call.startedAt,
    ...input.markers?.counters,
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
    ...(input.call.tenantId ? { tenantId: input.call.tenantId } : {}),
    ...(input.call.direction ? { direction: input.call.direction } : {}),
  };
}
