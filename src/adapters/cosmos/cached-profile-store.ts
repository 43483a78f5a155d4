// Cache-aside caller profiles: read the cache, else the store (Cosmos) and fill the cache for
// TTL_PROFILE seconds; a write goes to the store first, then invalidates the cache. The cache sits
// behind the small ProfileCache port so its Redis key scheme can be swapped in one place.
import { hashPin, isPinHash } from '../../domain/caller-pin.js';
import type { Redis, Cluster } from 'ioredis';
import type { CallerProfile, ProfileStore, SessionStore } from '../../domain/ports.js';
import { counter, type Registry } from '../../metrics.js';

export interface ProfileCache {
  get(id: string): Promise<CallerProfile | null>;
  set(id: string, profile: CallerProfile, ttlSeconds: number): Promise<void>;
  delete(id: string): Promise<void>;
}

export class CachedProfileStore implements ProfileStore {
  readonly #lookups;
  constructor(
    private readonly deps: { store: ProfileStore; cache: ProfileCache; registry: Registry; onCacheError?: (err: unknown) => void },
    private readonly cfg: { ttlSeconds: number },
  ) {
    this.#lookups = counter(deps.registry, 'voice_profile_cache_lookups_total', 'Caller profile cache lookups', ['result']);
  }

  async get(id: string): Promise<CallerProfile | null> {
    let cached: CallerProfile | null = null;
    try {
      cached = await this.deps.cache.get(id);
    } catch (err) {
      this.#lookups.inc({ result: 'error' });
      this.deps.onCacheError?.(err);
    }
    if (cached) {
      this.#lookups.inc({ result: 'hit' });
      return cached;
    }
    this.#lookups.inc({ result: 'miss' });
    const profile = await this.deps.store.get(id);
    if (profile) {
      await this.deps.cache.set(id, profile, this.cfg.ttlSeconds).catch((err: unknown) => this.deps.onCacheError?.(err));
    }
    return profile;
  }

  async put(profile: CallerProfile): Promise<void> {
    await this.deps.store.put(profile);
    await this.deps.cache.delete(profile.id);
  }
}

/** Profile cache in Redis: one JSON string per profile under a hashed id, always with a TTL. */
export class RedisProfileCache implements ProfileCache {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly key: (id: string) => string,
  ) {}

  async get(id: string): Promise<CallerProfile | null> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as CallerProfile) : null;
  }

  async set(id: string, profile: CallerProfile, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key(id), JSON.stringify(profile), 'EX', ttlSeconds);
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }
}

export class MemoryProfileCache implements ProfileCache {
  readonly #m = new Map<string, { p: CallerProfile; until: number }>();
  async get(id: string): Promise<CallerProfile | null> {
    const e = this.#m.get(id);
    if (!e || e.until < Date.now()) return null;
    return structuredClone(e.p);
  }
  async set(id: string, profile: CallerProfile, ttlSeconds: number): Promise<void> {
    this.#m.set(id, { p: structuredClone(profile), until: Date.now() + ttlSeconds * 1000 });
  }
  async delete(id: string): Promise<void> {
    this.#m.delete(id);
  }
}

/**
 * At IncomingCall: reads the caller's profile (cache-aside) and puts it into the conversation
 * context for the responder. The PIN stays out of the context (the responder must never see it);
 * `profile.hasPin` tells whether one is set. Returns the full profile, or null (unknown caller or
 * the store unavailable — a call is never refused for that).
 */
export async function loadCallerProfile(
  deps: {
    profiles: ProfileStore;
    conversations: { updateContext(callId: string, patch: Readonly<Record<string, unknown>>): Promise<void> };
    sessions: Pick<SessionStore, 'getAuthState' | 'putAuthState'>;
  },
  callId: string,
  callerId: string,
): Promise<CallerProfile | null> {
  let profile: CallerProfile | null = null;
  try {
    profile = await deps.profiles.get(callerId);
  } catch {
    return null;
  }
  if (!profile) return null;
  const { pin, pinHash, ...visible } = profile;
  // A profile written before hashing may still hold a clear `pin`: hash it for this call's auth state.
  const hash = isPinHash(pinHash) ? pinHash : typeof pin === 'string' && pin.length > 0 ? await hashPin(pin) : null;
  const hasPin = hash !== null;
  if (hash) {
    // The auth state was stored before the answer; add the PIN hash to it.
    const auth = await deps.sessions.getAuthState(callId);
    if (auth) await deps.sessions.putAuthState(callId, { ...auth, pinHash: hash });
  }
  await deps.conversations.updateContext(callId, { profile: { ...visible, hasPin } });
  return profile;
}
