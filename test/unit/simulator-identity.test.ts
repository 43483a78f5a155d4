import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createIdentity, DEFAULT_ACS_ISSUER, TOKEN_LIFETIME_S, TOKEN_REUSE_MS } from '../../src/simulator/identity.js';

describe('simulator token issuer', () => {
  it('issues RS256 JWTs for the resource that verify against its JWKS', async () => {
    const id = await createIdentity({ issuer: DEFAULT_ACS_ISSUER, audience: 'res-1' });
    const token = await id.issue();
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'RS256', kid: id.kid });
    const { payload } = await jwtVerify(token, createLocalJWKSet(id.jwks), { issuer: DEFAULT_ACS_ISSUER, audience: 'res-1', algorithms: ['RS256'] });
    expect(payload.exp! - payload.iat!).toBe(TOKEN_LIFETIME_S);
    expect(TOKEN_LIFETIME_S).toBe(300);
    expect(id.jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: id.kid, alg: 'RS256', use: 'sig' });
    expect(id.jwks.keys[0]).not.toHaveProperty('d');
  });

  it('makes a new token per call and the wrong audience or issuer fails', async () => {
    const id = await createIdentity({ issuer: 'https://issuer.test', audience: 'res-2' });
    const [a, b] = [await id.issue(), await id.issue()];
    expect(a).not.toBe(b);
    const keys = createLocalJWKSet(id.jwks);
    await expect(jwtVerify(a, keys, { issuer: 'https://issuer.test', audience: 'other' })).rejects.toThrow();
    await expect(jwtVerify(a, keys, { issuer: DEFAULT_ACS_ISSUER, audience: 'res-2' })).rejects.toThrow();
  });

  it('token() reuses one freshly minted, valid token for a moment instead of signing per event', async () => {
    const id = await createIdentity({ issuer: DEFAULT_ACS_ISSUER, audience: 'res-3' });
    const [a, b] = await Promise.all([id.token(), id.token()]);
    expect(a).toBe(b);
    const { payload } = await jwtVerify(a, createLocalJWKSet(id.jwks), { issuer: DEFAULT_ACS_ISSUER, audience: 'res-3', algorithms: ['RS256'] });
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThanOrEqual(TOKEN_REUSE_MS / 1000 + 1);
  });

  it('tokens of another simulator instance do not verify', async () => {
    const one = await createIdentity({ issuer: DEFAULT_ACS_ISSUER, audience: 'r' });
    const two = await createIdentity({ issuer: DEFAULT_ACS_ISSUER, audience: 'r' });
    await expect(jwtVerify(await two.issue(), createLocalJWKSet(one.jwks), { issuer: DEFAULT_ACS_ISSUER, audience: 'r' })).rejects.toThrow();
  });
});
