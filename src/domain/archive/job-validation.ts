// Validation of an archive job read off the queue. A job that fails here can never succeed: the
// archiver dead-letters it with the reason instead of retrying it.
import { ARCHIVE_JOB_VERSION, type ArchiveJob } from '../archive-job.js';
import type { CallOutcome } from '../call-records.js';

export const SUPPORTED_JOB_VERSIONS: readonly number[] = [1];

const OUTCOMES: readonly CallOutcome[] = ['completed', 'caller-hangup', 'agent-hangup', 'failed', 'timeout', 'rejected', 'worker-shutdown', 'transferred', 'responder-failed'];
const SPEAKERS = ['user', 'assistant', 'system', 'tool'];
const CALL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export type JobValidation = { readonly ok: true; readonly job: ArchiveJob } | { readonly ok: false; readonly reason: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const nullableStr = (v: unknown) => v === null || typeof v === 'string';

export function validateArchiveJob(v: unknown): JobValidation {
  if (!isObj(v)) return { ok: false, reason: 'job is not an object' };
  if (!num(v.version)) return { ok: false, reason: 'version missing' };
  if (!SUPPORTED_JOB_VERSIONS.includes(v.version)) {
    return { ok: false, reason: `unknown job version ${v.version} (supported: ${SUPPORTED_JOB_VERSIONS.join(',')})` };
  }
  if (typeof v.callId !== 'string' || !CALL_ID.test(v.callId)) return { ok: false, reason: 'callId invalid' };
  if (typeof v.caller !== 'string' || typeof v.callee !== 'string') return { ok: false, reason: 'caller/callee invalid' };
  if (!nullableStr(v.callConnectionId) || !nullableStr(v.correlationId)) return { ok: false, reason: 'connection ids invalid' };
  if (!num(v.startedAt) || !num(v.endedAt) || v.endedAt < v.startedAt) return { ok: false, reason: 'start/end invalid' };
  if (!OUTCOMES.includes(v.outcome as CallOutcome)) return { ok: false, reason: 'outcome invalid' };
  if (!Array.isArray(v.turns)) return { ok: false, reason: 'turns missing' };
  for (const t of v.turns) {
    if (!isObj(t) || !num(t.seq) || !num(t.at) || typeof t.text !== 'string' || !SPEAKERS.includes(t.speaker as string)) {
      return { ok: false, reason: 'turn invalid' };
    }
  }
  if (!Array.isArray(v.bargeIns) || !v.bargeIns.every((b) => isObj(b) && num(b.at) && num(b.turnSeq) && num(b.playedMs))) {
    return { ok: false, reason: 'bargeIns invalid' };
  }
  if (!Array.isArray(v.dtmf) || !v.dtmf.every((d) => isObj(d) && num(d.at) && typeof d.tone === 'string')) {
    return { ok: false, reason: 'dtmf invalid' };
  }
  if (v.tenantId !== undefined && (typeof v.tenantId !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(v.tenantId))) return { ok: false, reason: 'tenantId invalid' };
  if (v.direction !== undefined && v.direction !== 'inbound' && v.direction !== 'outbound') return { ok: false, reason: 'direction invalid' };
  if (!isObj(v.counters) || !Object.values(v.counters).every(num)) return { ok: false, reason: 'counters invalid' };
  return { ok: true, job: v as unknown as ArchiveJob };
}

export function currentJobVersion(): number {
  return ARCHIVE_JOB_VERSION;
}
