// SessionStore for a replica that holds live calls in memory. Redis holds shared, reconstructible
// state; the replica with a call's live socket holds the truth for that call. So the auth state
// (per-call secret) and session snapshot of every call this replica holds are kept in memory too:
// reads for those calls never need Redis (a callback of a live local call is verified while Redis
// is down, empty, or failed over), and a write Redis cannot take is kept here and written back when
// the owner re-asserts the call (owner-restore.ts). Claims fall back to a local, TTL-bounded set
// while Redis is unreachable (de-duplication on this replica instead of refusing the event).
// Memory is bounded by the calls this replica holds: entries go when the call leaves the registry.
import type { TranscriptDocument } from '../../domain/archive-job.js';
import type { CallAuthState, CallSessionSnapshot, CallSummary } from '../../domain/call-records.js';
import type { Clock, SessionStore } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import { counter, gauge, type Registry } from '../../metrics.js';
import { TtlMap } from '../memory/ttl-map.js';
import { isBackendDown } from './redis-errors.js';

export interface ResilientSessionDeps {
  readonly primary: SessionStore;
  /** True for a call this replica holds (in its call registry). */
  readonly isLocal: (callId: string) => boolean;
  /** False while Redis is known to be unreachable or stalled: local calls skip it instead of waiting. */
  readonly isUp?: () => boolean;
  readonly clock: Clock;
  readonly registry: Registry;
}

export interface ResilientSessionConfig {
  /** Seconds a claim taken locally (Redis unreachable) is remembered: the dedup TTL. */
  readonly claimTtlS: number;
}

export class ResilientSessionStore implements SessionStore {
  readonly #auth = new Map<string, CallAuthState>();
  readonly #sessions = new Map<string, CallSessionSnapshot>();
  readonly #claims: TtlMap<string>;
  readonly #deferred;
  readonly #localClaims;
  readonly #localReads;

  constructor(
    private readonly deps: ResilientSessionDeps,
    private readonly cfg: ResilientSessionConfig,
    private readonly log: Logger,
  ) {
    this.#claims = new TtlMap(deps.clock);
    this.#deferred = counter(deps.registry, 'voice_redis_deferred_writes_total', 'Session writes Redis could not take, kept in memory for the owner to re-assert', ['kind']);
    this.#localClaims = counter(deps.registry, 'voice_redis_local_claims_total', 'Claims de-duplicated on this replica alone because Redis was unreachable', ['kind']);
    this.#localReads = counter(deps.registry, 'voice_session_local_reads_total', 'Auth and session reads served from the memory of the owning replica', ['kind']);
    const held = () => this.#auth.size;
    gauge(deps.registry, 'voice_session_local_calls', 'Calls whose auth state this replica keeps in memory', [], function collect() {
      this.set(held());
    });
  }

  async claim(kind: 'incoming-call' | 'event', id: string, owner: string): Promise<boolean> {
    if (this.deps.isUp && !this.deps.isUp()) {
      this.#localClaims.inc({ kind });
      return this.#claims.setNx(`${kind}:${id}`, owner, this.cfg.claimTtlS);
    }
    try {
      return await this.deps.primary.claim(kind, id, owner);
    } catch (err) {
      if (!isBackendDown(err)) throw err;
      this.#localClaims.inc({ kind });
      return this.#claims.setNx(`${kind}:${id}`, owner, this.cfg.claimTtlS);
    }
  }

  async releaseClaim(kind: 'incoming-call' | 'event', id: string): Promise<void> {
    this.#claims.delete(`${kind}:${id}`);
    try {
      await this.deps.primary.releaseClaim(kind, id);
    } catch (err) {
      if (!isBackendDown(err)) throw err;
    }
  }

  async putAuthState(callId: string, auth: CallAuthState): Promise<void> {
    const local = this.deps.isLocal(callId);
    if (local) this.#auth.set(callId, auth);
    await this.#write(local, 'auth', () => this.deps.primary.putAuthState(callId, auth));
  }

  async getAuthState(callId: string): Promise<CallAuthState | null> {
    const local = this.#auth.get(callId);
    if (local) {
      this.#localReads.inc({ kind: 'auth' });
      return local;
    }
    return this.deps.primary.getAuthState(callId);
  }

  async saveSession(snapshot: CallSessionSnapshot): Promise<void> {
    const local = this.deps.isLocal(snapshot.callId);
    if (local) this.#sessions.set(snapshot.callId, snapshot);
    await this.#write(local, 'session', () => this.deps.primary.saveSession(snapshot));
  }

  async loadSession(callId: string): Promise<CallSessionSnapshot | null> {
    const local = this.#sessions.get(callId);
    if (local) {
      this.#localReads.inc({ kind: 'session' });
      return local;
    }
    return this.deps.primary.loadSession(callId);
  }

  putSummary(callId: string, summary: CallSummary): Promise<void> {
    return this.deps.primary.putSummary(callId, summary);
  }
  getSummary(callId: string): Promise<CallSummary | null> {
    return this.deps.primary.getSummary(callId);
  }
  putTranscript(callId: string, doc: TranscriptDocument): Promise<void> {
    return this.deps.primary.putTranscript(callId, doc);
  }
  getTranscript(callId: string): Promise<TranscriptDocument | null> {
    return this.deps.primary.getTranscript(callId);
  }

  /**
   * This replica took over a call (its media socket arrived here): keep its auth state and snapshot
   * in memory from now on. Best effort; a failure leaves reads going to Redis.
   */
  async adopt(callId: string): Promise<void> {
    if (!this.deps.isLocal(callId)) return;
    try {
      const [auth, snap] = await Promise.all([
        this.#auth.has(callId) ? null : this.deps.primary.getAuthState(callId),
        this.#sessions.has(callId) ? null : this.deps.primary.loadSession(callId),
      ]);
      if (!this.deps.isLocal(callId)) return;
      if (auth && !this.#auth.has(callId)) this.#auth.set(callId, auth);
      if (snap && !this.#sessions.has(callId)) this.#sessions.set(callId, snap);
    } catch (err) {
      this.log.warn({ err, callId }, 'could not adopt the auth state of a call taken over');
    }
  }

  /** What this replica holds in memory for a call (for re-asserting it after Redis lost it). */
  held(callId: string): { auth: CallAuthState | null; session: CallSessionSnapshot | null } {
    return { auth: this.#auth.get(callId) ?? null, session: this.#sessions.get(callId) ?? null };
  }

  /** The call left this replica (ended or handed over): drop what was kept for it. */
  forget(callId: string): void {
    this.#auth.delete(callId);
    this.#sessions.delete(callId);
  }

  get size(): number {
    return this.#auth.size;
  }

  async #write(local: boolean, kind: 'auth' | 'session', write: () => Promise<void>): Promise<void> {
    if (local && this.deps.isUp && !this.deps.isUp()) {
      this.#deferred.inc({ kind });
      return;
    }
    try {
      await write();
    } catch (err) {
      // A live local call goes on from memory; its owner writes the record back when Redis returns.
      if (!local || !isBackendDown(err)) throw err;
      this.#deferred.inc({ kind });
      this.log.debug({ err, kind }, 'session write deferred until Redis is back');
    }
  }
}
