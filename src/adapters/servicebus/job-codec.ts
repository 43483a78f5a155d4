// Archive job <-> queue message body. JSON, gzip when large (content-encoding property), and a
// claim check (payload in the ClaimStore, the message carries only a reference) when even the
// compressed body would not fit in one message.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ArchiveJob } from '../../domain/archive-job.js';
import { ARCHIVE_PROPS, needsClaimCheck, shouldCompress, type MessageLimits } from '../../domain/archive/message-plan.js';
import type { ClaimStore } from '../cosmos/cosmos-claim-store.js';

export type ArchiveProps = Record<string, string | number | boolean>;

export interface PackedJob {
  readonly body: Buffer;
  readonly props: ArchiveProps;
  readonly claimCheck: boolean;
}

export function encodeJob(job: ArchiveJob): Buffer {
  return Buffer.from(JSON.stringify(job));
}

/** Packs a JSON-encoded job for the queue; writes the claim first when one is needed. */
export async function packJob(callId: string, json: Buffer, limits: MessageLimits, claims: ClaimStore | null): Promise<PackedJob> {
  const meta = peekMeta(json);
  const props: ArchiveProps = { [ARCHIVE_PROPS.version]: meta.version, [ARCHIVE_PROPS.endedAt]: meta.endedAt };
  let body = json;
  if (shouldCompress(json.length, limits)) {
    body = gzipSync(json);
    props[ARCHIVE_PROPS.encoding] = 'gzip';
  }
  if (!needsClaimCheck(body.length, limits)) return { body, props, claimCheck: false };
  if (!claims) throw new Error(`archive job of ${body.length} bytes exceeds the message limit and no claim store is configured`);
  const gz = props[ARCHIVE_PROPS.encoding] === 'gzip' ? body : gzipSync(json);
  await claims.put(callId, gz);
  return {
    body: Buffer.from(JSON.stringify({ claim: callId })),
    props: { [ARCHIVE_PROPS.version]: meta.version, [ARCHIVE_PROPS.endedAt]: meta.endedAt, [ARCHIVE_PROPS.claimCheck]: 'cosmos' },
    claimCheck: true,
  };
}

function peekMeta(json: Buffer): { version: number; endedAt: number } {
  const v = JSON.parse(json.toString('utf8')) as { version?: unknown; endedAt?: unknown };
  return { version: typeof v.version === 'number' ? v.version : 0, endedAt: typeof v.endedAt === 'number' ? v.endedAt : 0 };
}

export type Unpacked =
  | { readonly ok: true; readonly value: unknown; readonly json: Buffer; readonly claimId: string | null }
  | { readonly ok: false; readonly reason: string; readonly claimId: string | null; readonly claimMissing?: boolean };

/** Reverses packJob. Never throws: a body that cannot be read is reported with a reason. */
export async function unpackJob(body: unknown, props: Record<string, unknown>, claims: ClaimStore | null): Promise<Unpacked> {
  const buf = Buffer.isBuffer(body) ? body : body instanceof Uint8Array ? Buffer.from(body) : typeof body === 'string' ? Buffer.from(body) : null;
  if (!buf) return { ok: false, reason: 'body is not binary JSON', claimId: null };
  try {
    if (props[ARCHIVE_PROPS.claimCheck]) {
      const ref = JSON.parse(buf.toString('utf8')) as { claim?: unknown };
      if (typeof ref.claim !== 'string') return { ok: false, reason: 'claim reference invalid', claimId: null };
      if (!claims) return { ok: false, reason: 'claim check without a claim store', claimId: ref.claim };
      const payload = await claims.get(ref.claim);
      if (!payload) return { ok: false, reason: 'claim not found', claimId: ref.claim, claimMissing: true };
      const json = gunzipSync(payload);
      return { ok: true, value: JSON.parse(json.toString('utf8')), json, claimId: ref.claim };
    }
    const enc = props[ARCHIVE_PROPS.encoding];
    if (enc !== undefined && enc !== 'gzip' && enc !== 'identity') return { ok: false, reason: `unknown content-encoding ${String(enc)}`, claimId: null };
    const json = enc === 'gzip' ? gunzipSync(buf) : buf;
    return { ok: true, value: JSON.parse(json.toString('utf8')), json, claimId: null };
  } catch (err) {
    if ((err as { code?: unknown }).code !== undefined && typeof (err as { code?: unknown }).code === 'number') throw err;
    return { ok: false, reason: `body unreadable: ${(err as Error).message}`, claimId: null };
  }
}
