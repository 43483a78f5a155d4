// SessionStore and TtsCache over Redis: plain SET ... EX / SET NX EX (one round trip each, TTL in the
// same command), JSON values for records, raw bytes for audio. The archived call's summary is one
// script that also shortens the TTL of the call's conversation keys (same hash tag, one round trip).
import type { TtlPolicy } from '../../config.js';
import type { TranscriptDocument } from '../../domain/archive-job.js';
import type { CallAuthState, CallSessionSnapshot, CallSummary } from '../../domain/call-records.js';
import type { SessionStore, TtsCache } from '../../domain/ports.js';
import { groupByNode } from './cluster-slots.js';
import type { RedisClient } from './redis-client.js';
import type { ClaimKind, RedisKeys } from './keys.js';
import { checkCode, toBackendError } from './redis-errors.js';
import type { RedisScripts } from './scripts.js';
import { ARCHIVED_CONVERSATION, ttlFor, type KeyKind } from './ttl-policy.js';

export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly deps: { client: RedisClient; scripts: RedisScripts; keys: RedisKeys },
    private readonly ttl: TtlPolicy,
  ) {}

  async #put(kind: KeyKind, key: string, value: unknown, op: string): Promise<void> {
    try {
      await this.deps.client.set(key, JSON.stringify(value), 'EX', ttlFor(this.ttl, kind));
    } catch (err) {
      throw toBackendError(err, op);
    }
  }

  async #get<T>(key: string, op: string): Promise<T | null> {
    let raw: string | null;
    try {
      raw = await this.deps.client.get(key);
    } catch (err) {
      throw toBackendError(err, op);
    }
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async claim(kind: ClaimKind, id: string, owner: string): Promise<boolean> {
    try {
      const r = await this.deps.client.set(this.deps.keys.claim(kind, id), owner, 'EX', ttlFor(this.ttl, 'claim'), 'NX');
      return r === 'OK';
    } catch (err) {
      throw toBackendError(err, 'claim');
    }
  }

  async releaseClaim(kind: ClaimKind, id: string): Promise<void> {
    try {
      await this.deps.client.del(this.deps.keys.claim(kind, id));
    } catch (err) {
      throw toBackendError(err, 'releaseClaim');
    }
  }

  putAuthState(callId: string, auth: CallAuthState): Promise<void> {
    return this.#put('callAuth', this.deps.keys.callAuth(callId), auth, 'putAuthState');
  }
  getAuthState(callId: string): Promise<CallAuthState | null> {
    return this.#get(this.deps.keys.callAuth(callId), 'getAuthState');
  }
  saveSession(snapshot: CallSessionSnapshot): Promise<void> {
    return this.#put('callSession', this.deps.keys.callSession(snapshot.callId), snapshot, 'saveSession');
  }
  loadSession(callId: string): Promise<CallSessionSnapshot | null> {
    return this.#get(this.deps.keys.callSession(callId), 'loadSession');
  }
  async putSummary(callId: string, summary: CallSummary): Promise<void> {
    const k = this.deps.keys;
    const conversation = ARCHIVED_CONVERSATION.kinds.map((kind) => k[kind](callId));
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run(
        'archiveSummary',
        [k.callSummary(callId), ...conversation],
        [JSON.stringify(summary), ttlFor(this.ttl, 'callSummary'), this.ttl[ARCHIVED_CONVERSATION.ttl]],
      );
    } catch (err) {
      throw toBackendError(err, 'putSummary');
    }
    checkCode((reply as unknown[])[0], `summary ${callId}`);
  }
  getSummary(callId: string): Promise<CallSummary | null> {
    return this.#get(this.deps.keys.callSummary(callId), 'getSummary');
  }
  putTranscript(callId: string, doc: TranscriptDocument): Promise<void> {
    return this.#put('callTranscript', this.deps.keys.callTranscript(callId), doc, 'putTranscript');
  }
  getTranscript(callId: string): Promise<TranscriptDocument | null> {
    return this.#get(this.deps.keys.callTranscript(callId), 'getTranscript');
  }
}

export class RedisTtsCache implements TtsCache {
  constructor(
    private readonly deps: { client: RedisClient; keys: RedisKeys },
    private readonly ttl: TtlPolicy,
  ) {}

  async get(key: string): Promise<Uint8Array | null> {
    let buf: Buffer | null;
    try {
      buf = await this.deps.client.getBuffer(this.deps.keys.tts(key));
    } catch (err) {
      throw toBackendError(err, 'tts get');
    }
    return buf === null ? null : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** One pipeline of GETs: one round trip (in a Cluster, one per node serving the keys, in parallel). */
  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    if (keys.length === 0) return [];
    if (keys.length === 1) return [await this.get(keys[0] as string)];
    const { client } = this.deps;
    const named = keys.map((key, i) => ({ i, redisKey: this.deps.keys.tts(key) }));
    const out: (Uint8Array | null)[] = keys.map(() => null);
    try {
      await Promise.all(
        groupByNode(client, named, (n) => n.redisKey).map(async (group) => {
          const p = client.pipeline();
          for (const n of group) p.getBuffer(n.redisKey);
          const results = await p.exec();
          if (!results) throw new Error('pipeline aborted');
          group.forEach((n, j) => {
            const [err, buf] = results[j] as [Error | null, Buffer | null];
            if (err) throw err;
            out[n.i] = buf === null ? null : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
          });
        }),
      );
    } catch (err) {
      throw toBackendError(err, 'tts getMany');
    }
    return out;
  }

  async put(key: string, audio: Uint8Array): Promise<void> {
    const buf = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
    try {
      await this.deps.client.set(this.deps.keys.tts(key), buf, 'EX', ttlFor(this.ttl, 'tts'));
    } catch (err) {
      throw toBackendError(err, 'tts put');
    }
  }
}
