// A JWKS endpoint like ACS's (/calling/keys) and a signer for callback and media tokens.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';

export interface TestJwks {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** A valid ACS-like token; override claims or sign with another key to make it invalid. */
  token(opts?: { audience?: string; issuer?: string; expiresAt?: number; foreignKey?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startJwksServer(opts: { issuer?: string; audience?: string } = {}): Promise<TestJwks> {
  const issuer = opts.issuer ?? 'https://acscallautomation.test';
  const audience = opts.audience ?? 'test-acs-resource';
  const key = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(key.publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const body = JSON.stringify({ keys: [jwk] });
  const server: Server = createServer((req, res) => {
    if (req.url === '/calling/keys') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const sign = (k: CryptoKey, kid: string, o: { audience?: string; issuer?: string; expiresAt?: number }) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(o.issuer ?? issuer)
      .setAudience(o.audience ?? audience)
      .setIssuedAt()
      .setExpirationTime(o.expiresAt ?? Math.floor(Date.now() / 1000) + 300)
      .sign(k);

  return {
    jwksUrl: `http://127.0.0.1:${port}/calling/keys`,
    issuer,
    audience,
    token: (o = {}) => (o.foreignKey ? sign(foreign.privateKey, 'test-key-1', o) : sign(key.privateKey, 'test-key-1', o)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
