// Builds every Redis key and channel name the worker uses: `{app}:{env}:{type}:{{id}}:{component}`.
// The id sits in a hash tag so all keys of one call (or one worker) land in one Cluster slot and a Lua
// script may touch them together. No other module concatenates keys.
import { createHash } from 'node:crypto';
import { voiceError } from '../../domain/errors.js';

export interface KeyScope {
  readonly appName: string;
  readonly appEnv: string;
}

export type ClaimKind = 'incoming-call' | 'event';

const ID_PATTERN = /^[^\s{}]{1,256}$/;

function checkId(id: string): string {
  if (!ID_PATTERN.test(id)) throw voiceError('INVALID_PAYLOAD', 'id must be 1-256 characters without whitespace or braces');
  return id;
}

export class RedisKeys {
  readonly prefix: string;

  constructor(scope: KeyScope) {
    this.prefix = `${scope.appName}:${scope.appEnv}`;
  }

  #key(type: string, id: string, component: string): string {
    return `${this.prefix}:${type}:{${checkId(id)}}:${component}`;
  }

  /** SCAN pattern matching every key of this app and environment. */
  get pattern(): string {
    return `${this.prefix}:*`;
  }

  // conversation (what the responder reads, the turn pipeline writes)
  conversationContext(callId: string): string {
    return this.#key('conversation', callId, 'context');
  }
  conversationHistory(callId: string): string {
    return this.#key('conversation', callId, 'history');
  }
  conversationMeta(callId: string): string {
    return this.#key('conversation', callId, 'meta');
  }

  /** Cached caller profile. The caller's number never appears in a key: the id is a hash of it. */
  profileCache(callerId: string): string {
    return this.#key('profile', createHash('sha256').update(callerId).digest('base64url').slice(0, 22), 'cache');
  }

  // call records
  callAuth(callId: string): string {
    return this.#key('call', callId, 'auth');
  }
  callSession(callId: string): string {
    return this.#key('call', callId, 'session');
  }
  callSummary(callId: string): string {
    return this.#key('call', callId, 'summary');
  }
  callTranscript(callId: string): string {
    return this.#key('call', callId, 'transcript');
  }
  callOwner(callId: string): string {
    return this.#key('call', callId, 'owner');
  }
  callFence(callId: string): string {
    return this.#key('call', callId, 'fence');
  }
  callPending(callId: string): string {
    return this.#key('call', callId, 'pending');
  }

  claim(kind: ClaimKind, id: string): string {
    return this.#key(kind, id, 'claim');
  }

  tts(hash: string): string {
    return this.#key('tts', hash, 'audio');
  }

  // workers
  workerHeartbeat(workerId: string): string {
    return this.#key('worker', workerId, 'heartbeat');
  }
  /** Every live worker's peer address (field per worker: "<ms> <url>"), refreshed with the heartbeats. */
  workerPeers(): string {
    return this.#key('worker', 'peers', 'urls');
  }
  /** Pub/sub channel (not a key): events forwarded to this worker. */
  workerChannel(workerId: string): string {
    return this.#key('worker', workerId, 'events');
  }

  // operator console
  /** An operator session, by the SHA-256 of its token (the token itself is never stored). */
  operatorSession(tokenHash: string): string {
    return this.#key('session', tokenHash, 'operator');
  }
  /** Pub/sub channel (not a key): console events of every replica. */
  consoleChannel(): string {
    return this.#key('console', 'events', 'channel');
  }
  /** Hash: live call id → the console's view of it (written by the call's owner). */
  consoleLiveCalls(): string {
    return this.#key('console', 'live', 'calls');
  }
  /** Hash: worker id → that replica's health. */
  consoleReplicas(): string {
    return this.#key('console', 'live', 'replicas');
  }
  /** Hash of one UTC day's call counters (by outcome, by hour, duration sum). */
  consoleDay(day: string): string {
    return this.#key('console', day, 'day');
  }
  /** A cache-aside entry of the console's views. */
  consoleCache(name: string): string {
    return this.#key('cache', name, 'view');
  }

  // admission
  rateWindow(name: string): string {
    return this.#key('rate', name, 'window');
  }
  slots(tenant: string): string {
    return this.#key('tenant', tenant, 'slots');
  }
  /** Every live call's slot across tenants and replicas (ZSET of leases), tag {global}. */
  globalSlots(): string {
    return this.#key('admission', 'global', 'slots');
  }
  // campaigns
  /** The replica driving a campaign (owner id, PX lease). */
  campaignLease(campaignId: string): string {
    return this.#key('campaign', campaignId, 'lease');
  }
  /** The status route's cached JSON (30 s), deleted on every saved change. */
  campaignStatus(campaignId: string): string {
    return this.#key('campaign', campaignId, 'status');
  }
  /** Hash of hot counters (attempts, connected, ended by outcome). */
  campaignCounters(campaignId: string): string {
    return this.#key('campaign', campaignId, 'counters');
  }
  /** A pause / resume / cancel asked on a replica that does not drive the campaign. */
  campaignControl(campaignId: string): string {
    return this.#key('campaign', campaignId, 'control');
  }
  /** The global rate limit's sliding window (ZSET of admissions), tag {global}: in one slot with globalSlots. */
  globalRate(): string {
    return this.#key('admission', 'global', 'rate');
  }
}
