// The finalizer hook the call lifecycle runs once per finished call: builds the archive job from
// the LiveCall and the conversation store and hands it to the archive queue. It never throws into
// the call path; a failure is logged with the call id and counted by the caller's metric hook.
import type { CallOutcome } from '../call-records.js';
import { emptyConversation } from '../conversation.js';
import type { LiveCall } from '../live-call.js';
import type { ArchiveQueue, Clock, ConversationStore } from '../ports.js';
import { buildArchiveJob, markersOf } from './job-builder.js';

export type CallFinalizer = (call: LiveCall, outcome: CallOutcome) => Promise<void>;

export interface ArchiveFinalizerDeps {
  readonly queue: ArchiveQueue;
  readonly conversations: ConversationStore;
  readonly clock: Clock;
  readonly onResult?: (result: 'enqueued' | 'failed') => void;
}

export function createArchiveFinalizer(deps: ArchiveFinalizerDeps): CallFinalizer {
  return async (call, outcome) => {
    const endedAt = deps.clock.now();
    try {
      let conversation = emptyConversation(call.callId);
      try {
        conversation = await deps.conversations.getState(call.callId);
      } catch (err) {
        call.log.warn({ err, callId: call.callId }, 'conversation unavailable at archive time; archiving without turns');
      }
      const markers = markersOf(call);
      const job = buildArchiveJob({ call, conversation, outcome, endedAt, ...(markers ? { markers } : {}) });
      await deps.queue.enqueue(job);
      deps.onResult?.('enqueued');
    } catch (err) {
      deps.onResult?.('failed');
      call.log.error({ err, callId: call.callId }, 'archive enqueue failed');
    }
  };
}
