// The ACS signing keys (JWKS), fetched and cached, with the last good set kept when a refresh fails:
// a JWKS outage must not refuse every callback and media upgrade. The last good keys are served up
// to `maxStaleMs` after they were fetched (then dropped: a bounded trust in keys that may have been
// rotated out), with a warning hook per failed refresh (the caller logs and counts it). A token with
// an unknown key id triggers a refresh (at most once per cooldown), as key rotation needs.
// Keys: https://acscallautomation.communication.azure.com/calling/keys (ACS secure webhook docs).
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';

export interface JwksCacheConfig {
  /** Refetch the keys this often while they work (ms). */
  readonly refreshMs: number;
  /** Serve the last good keys at most this long after they were fetched when refreshes fail (ms). */
  readonly maxStaleMs: number;
  /** Least time between two fetches triggered by an unknown key id (ms). */
  readonly cooldownMs: number;
  readonly timeoutMs: number;
}

export const DEFAULT_JWKS_CACHE: JwksCacheConfig = { refreshMs: 3_600_000, maxStaleMs: 24 * 3_600_000, cooldownMs: 30_000, timeoutMs: 5000 };

export interface JwksCacheHooks {
  /** A refresh failed and the last good keys (this old) are served meanwhile. */
  onStale?(ageMs: number, err: unknown): void;
  /** A refresh failed and no usable keys remain (never fetched, or older than maxStaleMs). */
  onUnavailable?(err: unknown): void;
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

export class JwksCache {
  #keys: KeySet | null = null;
  #fetchedAt = 0;
  #lastAttempt = 0;
  #inflight: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly cfg: JwksCacheConfig = DEFAULT_JWKS_CACHE,
    private readonly hooks: JwksCacheHooks = {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The key resolver jwtVerify takes. */
  readonly resolve = async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
    if (!this.#keys || this.now() - this.#fetchedAt >= this.cfg.refreshMs) await this.#refresh();
    const keys = this.#usable();
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || this.now() - this.#lastAttempt < this.cfg.cooldownMs) throw err;
      await this.#refresh();
      return this.#usable()(header, token);
    }
  };

  /** Age of the keys served (ms), or null when none are held. */
  get ageMs(): number | null {
    return this.#keys ? this.now() - this.#fetchedAt : null;
  }

  #usable(): KeySet {
    if (this.#keys && this.now() - this.#fetchedAt < this.cfg.maxStaleMs) return this.#keys;
    this.#keys = null;
    throw new joseErrors.JWKSTimeout('ACS signing keys unavailable (JWKS fetch failing, no recent keys)');
  }

  #refresh(): Promise<void> {
    this.#inflight ??= (async () => {
      this.#lastAttempt = this.now();
      try {
        const res = await fetch(this.url, { signal: AbortSignal.timeout(this.cfg.timeoutMs), headers: { accept: 'application/json' } });
        if (!res.ok) throw new Error(`JWKS ${res.status}`);
        const body = (await res.json()) as JSONWebKeySet;
        if (!body || !Array.isArray(body.keys)) throw new Error('JWKS response has no keys array');
        this.#keys = createLocalJWKSet(body);
        this.#fetchedAt = this.now();
      } catch (err) {
        if (this.#keys && this.now() - this.#fetchedAt < this.cfg.maxStaleMs) this.hooks.onStale?.(this.now() - this.#fetchedAt, err);
        else this.hooks.onUnavailable?.(err);
      } finally {
        this.#inflight = null;
      }
    })();
    return this.#inflight;
  }
}
