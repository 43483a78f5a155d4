// The simulator's token issuer: one RS256 key pair with a key id, its JWKS, and short-lived JWTs for
// callbacks and media upgrades, audience = the simulated ACS resource id. An RS256 signature costs
// ~0.5 ms of the simulator's CPU; at 100 new calls a second (5-6 tokens each) that alone was a third of
// a core, so callbacks and upgrades share a token minted at most TOKEN_REUSE_MS ago (a sender that
// reuses a valid bearer token briefly is indistinguishable to the worker; each still verifies in full).
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';

export const DEFAULT_ACS_ISSUER = 'https://acscallautomation.communication.azure.com';
export const TOKEN_LIFETIME_S = 300;
/** How long `token()` hands out the same JWT before minting a new one. */
export const TOKEN_REUSE_MS = 1000;

export interface SimIdentity {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  readonly jwks: { keys: JWK[] };
  /** A new RS256 JWT (5 minute lifetime). */
  issue(): Promise<string>;
  /** A JWT minted at most TOKEN_REUSE_MS ago (what callbacks and media upgrades carry). */
  token(): Promise<string>;
}

export async function createIdentity(opts: { issuer: string; audience: string }): Promise<SimIdentity> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk = await exportJWK(publicKey);
  const jwks = { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] };
  const key: CryptoKey = privateKey;
  const issue = () =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(opts.issuer)
      .setAudience(opts.audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${TOKEN_LIFETIME_S}s`)
      .setJti(randomUUID())
      .sign(key);
  let current: Promise<string> | undefined;
  let mintedAt = 0;
  return {
    issuer: opts.issuer,
    audience: opts.audience,
    kid,
    jwks,
    issue,
    token: () => {
      const now = performance.now();
      if (!current || now - mintedAt >= TOKEN_REUSE_MS) {
        mintedAt = now;
        current = issue();
        // A failed signature is not cached.
        current.catch(() => (current = undefined));
      }
      return current;
    },
  };
}
