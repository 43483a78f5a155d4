// Authentication of everything ACS sends us: an RS256 JWT from the ACS issuer for our resource
// (callbacks and media upgrades alike), and the per-call secret we put in the callback and media URLs.
// JWKS is fetched, cached, refetched when a token names an unknown key id, and the last good keys are
// kept (bounded) when a refresh fails (jwks-cache.ts).
import { timingSafeEqual, createHash } from 'node:crypto';
import { jwtVerify, errors as joseErrors } from 'jose';
import { DEFAULT_JWKS_CACHE, JwksCache, type JwksCacheConfig, type JwksCacheHooks } from './jwks-cache.js';
import { voiceError } from '../domain/errors.js';
import type { SessionStore } from '../domain/ports.js';

export interface AcsAuthConfig {
  readonly jwksUrl: string;
  readonly issuer: string;
  /** ACS resource immutable id (the JWT audience). */
  readonly audience: string | undefined;
  /** Development only: skip JWT verification (the per-call secret is still checked). */
  readonly disabled: boolean;
  readonly jwksCache?: Partial<JwksCacheConfig>;
  /** Warning and metric hooks for JWKS refresh failures. */
  readonly jwksHooks?: JwksCacheHooks;
}

export interface AcsJwtVerifier {
  /** Resolves when the Authorization header holds a valid ACS JWT; throws UNAUTHENTICATED otherwise. */
  verify(authorization: string | undefined): Promise<void>;
}

export function createAcsJwtVerifier(cfg: AcsAuthConfig): AcsJwtVerifier {
  if (cfg.disabled) return { verify: async () => undefined };
  if (!cfg.audience) {
    // Without an audience every token for any ACS resource would pass: refuse everything instead.
    return {
      verify: async () => {
        throw voiceError('UNAUTHENTICATED', 'ACS_RESOURCE_ID is not configured; cannot verify ACS tokens');
      },
    };
  }
  const jwks = new JwksCache(cfg.jwksUrl, { ...DEFAULT_JWKS_CACHE, ...cfg.jwksCache }, cfg.jwksHooks).resolve;
  const audience = cfg.audience;
  return {
    async verify(authorization) {
      if (!authorization || !authorization.startsWith('Bearer ')) {
        throw voiceError('UNAUTHENTICATED', 'missing bearer token');
      }
      const token = authorization.slice('Bearer '.length).trim();
      try {
        await jwtVerify(token, jwks, { issuer: cfg.issuer, audience, algorithms: ['RS256'], clockTolerance: 30 });
      } catch (err) {
        const reason =
          err instanceof joseErrors.JWTExpired
            ? 'token expired'
            : err instanceof joseErrors.JWTClaimValidationFailed
              ? `claim ${err.claim} invalid`
              : err instanceof joseErrors.JWKSNoMatchingKey
                ? 'unknown signing key'
                : err instanceof joseErrors.JWSSignatureVerificationFailed
                  ? 'bad signature'
                  : err instanceof joseErrors.JOSEError
                    ? err.code
                    : 'token verification failed';
        throw voiceError('UNAUTHENTICATED', reason, err);
      }
    },
  };
}

/** Constant-time string comparison (hashes first so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** Checks the per-call secret against the call's authentication state. Throws UNAUTHENTICATED. */
export async function verifyCallSecret(sessions: SessionStore, callId: string | undefined, secret: string | undefined): Promise<void> {
  if (!callId || !secret) throw voiceError('UNAUTHENTICATED', 'missing call id or call secret');
  const auth = await sessions.getAuthState(callId);
  if (!auth || !safeEqual(auth.secret, secret)) throw voiceError('UNAUTHENTICATED', 'unknown call or wrong call secret');
}
