// A local ACS token issuer for media tests: an RS256 key pair, its JWKS served from node:http on
// port 0, and a signer for tokens with the ACS issuer and a resource id audience.
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface MediaJwks {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** The env vars a worker needs to verify these tokens. */
  workerEnv(): Record<string, string>;
  /** A signed token; overrides let tests make bad ones. */
  token(opts?: { audience?: string; issuer?: string; expiresIn?: string; foreignKey?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startMediaJwks(): Promise<MediaJwks> {
  const issuer = 'https://acscallautomation.communication.azure.com';
  const audience = `resource-${randomUUID()}`;
  const kid = randomUUID();
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const jwksUrl = `http://127.0.0.1:${port}/calling/keys`;
  return {
    jwksUrl,
    issuer,
    audience,
    workerEnv: () => ({ ACS_JWKS_URL: jwksUrl, ACS_JWT_ISSUER: issuer, ACS_RESOURCE_ID: audience }),
    async token(opts = {}) {
      const key: CryptoKey = opts.foreignKey ? foreign.privateKey : privateKey;
      return new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(opts.issuer ?? issuer)
        .setAudience(opts.audience ?? audience)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '5m')
        .sign(key);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
