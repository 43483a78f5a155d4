// The typed TTL table: every kind of key the Redis tier writes, and which configured TTL it carries.
// Every write sets or refreshes the TTL in the same round trip (SET EX, or EXPIRE inside the script).
import type { TtlPolicy } from '../../config.js';

export const KEY_TTL = {
  conversationContext: 'context',
  conversationHistory: 'history',
  conversationMeta: 'history',
  callAuth: 'auth',
  callSession: 'session',
  callSummary: 'summary',
  callTranscript: 'summary',
  callOwner: 'lease',
  /** The fence counter must outlive every lease of the call, so it lives as long as the session. */
  callFence: 'session',
  callPending: 'pending',
  claim: 'dedup',
  tts: 'tts',
  workerHeartbeat: 'worker',
  /** The peer address table: refreshed with every heartbeat (kept three heartbeat TTLs; stale entries are skipped and removed). */
  workerPeers: 'worker',
  rateWindow: 'rate',
  slots: 'lease',
  /** Both refreshed by every reservation; the rate window's key lives RATE_LIMIT_WINDOW_MS + 1 s. */
  globalSlots: 'lease',
  globalRate: 'lease',
  profileCache: 'profile',
  operatorSession: 'operatorSession',
  consoleLiveCalls: 'consoleLive',
  consoleReplicas: 'consoleLive',
  consoleDay: 'consoleDay',
  /** Each view carries its own TTL (active calls 15 s, campaigns 30 s, summary 60 s): at most this one. */
  consoleCache: 'consoleSummary',
  campaignLease: 'lease',
  /** Written with EX 30 (the status cache); at most this kind's TTL. */
  campaignStatus: 'consoleSummary',
  campaignCounters: 'summary',
  campaignControl: 'summary',
} as const satisfies Record<string, keyof TtlPolicy>;

export type KeyKind = keyof typeof KEY_TTL;

/**
 * Once a call's transcript is archived (Cosmos holds it), its hot conversation keys may expire
 * early: their TTL drops to this kind's, never rising above what it was.
 */
export const ARCHIVED_CONVERSATION = {
  kinds: ['conversationContext', 'conversationHistory', 'conversationMeta'],
  ttl: 'archived',
} as const satisfies { kinds: readonly KeyKind[]; ttl: keyof TtlPolicy };

/** Seconds a key of this kind lives after its last write. */
export function ttlFor(policy: TtlPolicy, kind: KeyKind): number {
  return policy[KEY_TTL[kind]];
}
