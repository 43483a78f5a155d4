// In-process SessionStore and TtsCache (single replica, tests, fallback). Same TTLs as Redis.
import type { TtlPolicy } from '../../config.js';
import type { TranscriptDocument } from '../../domain/archive-job.js';
import type { CallAuthState, CallSessionSnapshot, CallSummary } from '../../domain/call-records.js';
import type { Clock, SessionStore, TtsCache } from '../../domain/ports.js';
import { TtlMap } from './ttl-map.js';

export class MemorySessionStore implements SessionStore {
  readonly #claims: TtlMap<string>;
  readonly #auth: TtlMap<CallAuthState>;
  readonly #sessions: TtlMap<CallSessionSnapshot>;
  readonly #summaries: TtlMap<CallSummary>;
  readonly #transcripts: TtlMap<TranscriptDocument>;

  constructor(
    deps: { clock: Clock },
    private readonly ttl: Pick<TtlPolicy, 'dedup' | 'auth' | 'session' | 'summary'>,
  ) {
    this.#claims = new TtlMap(deps.clock);
    this.#auth = new TtlMap(deps.clock);
    this.#sessions = new TtlMap(deps.clock);
    this.#summaries = new TtlMap(deps.clock);
    this.#transcripts = new TtlMap(deps.clock);
  }

  async claim(kind: 'incoming-call' | 'event', id: string, owner: string): Promise<boolean> {
    return this.#claims.setNx(`${kind}/${id}`, owner, this.ttl.dedup);
  }
  async releaseClaim(kind: 'incoming-call' | 'event', id: string): Promise<void> {
    this.#claims.delete(`${kind}/${id}`);
  }
  async putAuthState(callId: string, auth: CallAuthState): Promise<void> {
    this.#auth.set(callId, structuredClone(auth), this.ttl.auth);
  }
  async getAuthState(callId: string): Promise<CallAuthState | null> {
    const v = this.#auth.get(callId);
    return v ? structuredClone(v) : null;
  }
  async saveSession(snapshot: CallSessionSnapshot): Promise<void> {
    this.#sessions.set(snapshot.callId, structuredClone(snapshot), this.ttl.session);
  }
  async loadSession(callId: string): Promise<CallSessionSnapshot | null> {
    const v = this.#sessions.get(callId);
    return v ? structuredClone(v) : null;
  }
  async putSummary(callId: string, summary: CallSummary): Promise<void> {
    this.#summaries.set(callId, structuredClone(summary), this.ttl.summary);
  }
  async getSummary(callId: string): Promise<CallSummary | null> {
    const v = this.#summaries.get(callId);
    return v ? structuredClone(v) : null;
  }
  async putTranscript(callId: string, doc: TranscriptDocument): Promise<void> {
    this.#transcripts.set(callId, structuredClone(doc), this.ttl.summary);
  }
  async getTranscript(callId: string): Promise<TranscriptDocument | null> {
    const d = this.#transcripts.get(callId);
    return d ? structuredClone(d) : null;
  }
}

export class MemoryTtsCache implements TtsCache {
  readonly #map: TtlMap<Uint8Array>;
  constructor(deps: { clock: Clock }, private readonly ttlSeconds: number) {
    this.#map = new TtlMap(deps.clock);
  }
  async get(key: string): Promise<Uint8Array | null> {
    const v = this.#map.get(key);
    return v ? new Uint8Array(v) : null;
  }
  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    return Promise.all(keys.map((k) => this.get(k)));
  }
  async put(key: string, audio: Uint8Array): Promise<void> {
    this.#map.set(key, new Uint8Array(audio), this.ttlSeconds);
  }
}
