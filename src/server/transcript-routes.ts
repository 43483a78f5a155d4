// GET /api/calls/:callId/transcript (and /summary) — hot to cold: live memory (CallRegistry + conversation store),
// then the Redis cache, then the archive (Cosmos); a Cosmos hit is re-cached (summary TTL). The
// response header x-transcript-source says which tier answered. Operator-only (see operatorAuth).
// The id is the worker's call id or, failing that, the ACS callConnectionId of the call (live: the
// registry's connection index; archived: a lookup in the archive); the call id stays the primary key.
import type { FastifyPluginAsync } from 'fastify';
import { buildArchiveJob, markersOf, withMaskedDtmf } from '../domain/archive/job-builder.js';
import { voiceError } from '../domain/errors.js';
import type { CallRegistry } from '../domain/live-call.js';
import type { ArchiveStore, Clock, ConversationStore, SessionStore } from '../domain/ports.js';
import { counter, type Registry } from '../metrics.js';
import { operatorAuth } from './operator-auth.js';
import { readThrough } from '../domain/hot-cold.js';
import { summaryOf } from '../domain/archive/call-summary.js';
import type { TranscriptDocument } from '../domain/archive-job.js';

const CALL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface TranscriptRouteDeps {
  readonly calls: CallRegistry;
  readonly conversations: ConversationStore;
  readonly sessions: SessionStore;
  readonly archive: ArchiveStore & { findCallIdByConnection?(callConnectionId: string): Promise<string | null> };
  readonly registry: Registry;
  readonly clock: Clock;
  readonly apiToken: string | undefined;
}

export function transcriptRoutes(deps: TranscriptRouteDeps): FastifyPluginAsync {
  const reads = counter(deps.registry, 'voice_transcript_reads_total', 'Transcript reads by the tier that answered', ['source']);
  const cache = counter(deps.registry, 'voice_transcript_cache_total', 'Transcript cache (Redis) lookups', ['result']);
  const summaries = counter(deps.registry, 'voice_summary_reads_total', 'Call summary reads by the tier that answered', ['source']);
  const auth = operatorAuth(deps.apiToken);
  return async (app) => {
    app.get<{ Params: { callId: string } }>('/api/calls/:callId/transcript', { preHandler: auth }, async (req, reply) => {
      const { callId: id } = req.params;
      if (!CALL_ID.test(id)) throw voiceError('BAD_REQUEST', 'callId has invalid characters');
      let callId = id;
      const live = deps.calls.get(id) ?? deps.calls.byConnection(id);
      if (live) callId = live.callId;
      if (live) {
        const conversation = await deps.conversations.getState(callId);
        const markers = markersOf(live);
        const job = buildArchiveJob({ call: live, conversation, outcome: 'completed', endedAt: deps.clock.now(), ...(markers ? { markers } : {}) });
        reads.inc({ source: 'memory' });
        return reply.header('x-transcript-source', 'memory').send({ ...job, id: callId, live: true, phase: live.phase });
      }
      const recache = (key: string) => (d: TranscriptDocument) => deps.sessions.putTranscript(key, d);
      const onRecacheError = (err: unknown) => req.log.warn({ err, callId }, 'transcript re-cache failed');
      // Documents archived before DTMF masking may hold clear tones: mask before caching and returning.
      let r = await readThrough({ hot: () => deps.sessions.getTranscript(callId), cold: () => deps.archive.getTranscript(callId), recache: recache(callId), prepare: withMaskedDtmf, onRecacheError });
      cache.inc({ result: r.source === 'redis' ? 'hit' : 'miss' });
      if (r.source === 'none' && deps.archive.findCallIdByConnection) {
        // Not a call id: perhaps the ACS callConnectionId of an archived call.
        const byConnection = await deps.archive.findCallIdByConnection(id);
        if (byConnection) {
          callId = byConnection;
          r = await readThrough({ hot: () => deps.sessions.getTranscript(byConnection), cold: () => deps.archive.getTranscript(byConnection), recache: recache(byConnection), prepare: withMaskedDtmf, onRecacheError });
        }
      }
      if (r.value) {
        reads.inc({ source: r.source });
        return reply.header('x-transcript-source', r.source).send(r.source === 'redis' ? withMaskedDtmf(r.value) : r.value);
      }
      reads.inc({ source: 'none' });
      throw voiceError('NOT_FOUND', 'no transcript for this call');
    });

    // GET /api/calls/:callId/summary — an ended call's summary: Redis (cached by the archiver, summary
    // TTL), else rebuilt from the archived transcript and re-cached with the summary TTL.
    app.get<{ Params: { callId: string } }>('/api/calls/:callId/summary', { preHandler: auth }, async (req, reply) => {
      const { callId } = req.params;
      if (!CALL_ID.test(callId)) throw voiceError('BAD_REQUEST', 'callId has invalid characters');
      const r = await readThrough({
        hot: () => deps.sessions.getSummary(callId),
        cold: async () => {
          const doc = await deps.archive.getTranscript(callId);
          return doc ? summaryOf(doc) : null;
        },
        recache: (s) => deps.sessions.putSummary(callId, s),
        onRecacheError: (err) => req.log.warn({ err, callId }, 'summary re-cache failed'),
      });
      summaries.inc({ source: r.source });
      if (!r.value) throw voiceError('NOT_FOUND', 'no summary for this call');
      return reply.header('x-summary-source', r.source).send(r.value);
    });
  };
}
