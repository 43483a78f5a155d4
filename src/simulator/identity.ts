// The simulator's token issuer: one RS256 key pair with a key id, its JWKS, and a fresh short-lived JWT
// per event (callbacks and media upgrades), audience = the simulated ACS resource id.
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';

export const DEFAULT_ACS_ISSUER = 'https://acscallautomation.communication.azure.com';
export const TOKEN_LIFETIME_S = 300;

export interface SimIdentity {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  readonly jwks: { keys: JWK[] };
  /** A new RS256 JWT (5 minute lifetime). */
  issue(): Promise<string>;
}

export async function createIdentity(opts: { issuer: string; audience: string }): Promise<SimIdentity> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk = await exportJWK(publicKey);
  const jwks = { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] };
  const key: CryptoKey = privateKey;
  return {
    issuer: opts.issuer,
    audience: opts.audience,
    kid,
    jwks,
    issue: () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime(`${TOKEN_LIFETIME_S}s`)
        .setJti(randomUUID())
        .sign(key),
  };
}
