// A whole call through every store method of every Redis adapter (admission, claims, auth, session,
// held and forwarded events, lease, turns, context, TTS cache, summary, transcript), for TTL scans.
import { expect } from 'vitest';
import { RedisConcurrencySlots, RedisRateLimiter } from '../../src/adapters/redis/redis-admission.js';
import type { StateBundle } from './state-subjects.js';

/**
 * Runs the call. `midCall('owner')` runs while the lease, held events and slot exist;
 * `midCall('turns')` runs after every turn, context and TTS write and before anything of the call's
 * end (the summary script shortens the conversation TTLs, a release deletes the lease): a scan there
 * sees the keys as the call left them, not as the way out re-expired them.
 */
export async function runWholeCall(s: StateBundle, callId: string, midCall: (stage: 'owner' | 'turns') => Promise<void>): Promise<void> {
  const { wired } = s.redis!;
  await s.router.start(() => undefined);
  // admission
  const rate = new RedisRateLimiter({ scripts: wired.scripts, keys: wired.keys }, s.config.ttl);
  const slots = new RedisConcurrencySlots({ scripts: wired.scripts, keys: wired.keys, clock: { now: () => Date.now(), monotonic: () => 0 } }, s.config.ttl);
  expect((await rate.hit('incoming', 100)).admitted).toBe(true);
  expect(await slots.acquire('tenant-1', callId, 10)).toBe(true);
  // incoming call
  expect(await s.sessions.claim('incoming-call', 'inc-1', s.config.workerId)).toBe(true);
  await s.sessions.putAuthState(callId, { secret: 'x'.repeat(22), callerVerified: false, failedAttempts: 0 });
  await s.sessions.saveSession({ callId, phase: 'answering', callConnectionId: null, correlationId: null, serverCallId: null, from: 'a', to: 'b', startedAt: 1, ownerWorkerId: null, audioFormat: 'pcm16KMono', nextSeq: 1 });
  // callbacks before the media socket: held
  expect(await s.router.forward({ callId, id: 'e-0', type: 'CallConnected', data: {}, time: null })).toBe('held');
  expect(await s.sessions.claim('event', 'e-0', s.config.workerId)).toBe(true);
  // media connects: owner
  const lease = await s.affinity.acquire(callId, s.config.workerId);
  await midCall('owner');
  expect(await s.router.takeHeld(callId)).toHaveLength(1);
  expect(await s.router.forward({ callId, id: 'e-1', type: 'PlayCompleted', data: {}, time: null })).toBe('forwarded');
  // turns
  await s.conversations.updateContext(callId, { caller: { name: 'Ada' }, step: 'greet' });
  for (let seq = 1; seq <= 6; seq++) {
    await s.conversations.appendTurn(callId, { seq, speaker: seq % 2 ? 'user' : 'assistant', text: `t${seq}`, at: seq });
    await s.conversations.getState(callId);
    await s.ttsCache.put(`hash-${seq}`, Buffer.from([seq, 1, 2, 3]));
    await s.ttsCache.get(`hash-${seq}`);
  }
  await s.conversations.updateContext(callId, { step: null });
  expect(await s.affinity.renewAll([lease])).toEqual({ lost: [], reasserted: [] });
  await midCall('turns');
  // end
  await s.sessions.putSummary(callId, { callId, outcome: 'completed', startedAt: 1, endedAt: 2, durationMs: 1, turnCount: 6, bargeIns: 0, archived: true });
  await s.sessions.putTranscript(callId, { version: 1, id: callId, callId, callConnectionId: null, correlationId: null, caller: 'a', callee: 'b', startedAt: 1, endedAt: 2, outcome: 'completed', turns: [], bargeIns: [], dtmf: [], counters: {}, archivedAt: 3 });
  await s.affinity.release(lease);
  await slots.release('tenant-1', callId);
}
