// The ACS JWKS cache keeps the last good keys when a refresh fails, up to a bounded age, and
// refetches on an unknown key id (key rotation). Against a real local JWKS endpoint that goes down.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwksCache } from '../../src/server/jwks-cache.js';

describe('JWKS cache (last good keys)', () => {
  let server: Server;
  let url: string;
  let up = true;
  let body = '';
  let sign: () => Promise<string>;
  beforeAll(async () => {
    const key = await generateKeyPair('RS256');
    body = JSON.stringify({ keys: [{ ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    sign = () => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('iss').setAudience('aud').setExpirationTime('5m').sign(key.privateKey);
    server = createServer((_req, res) => {
      if (!up) {
        res.writeHead(503);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/calling/keys`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('serves the last good keys while refreshes fail, warns each time, and stops after the max age', async () => {
    let now = 1_000_000;
    const stale: number[] = [];
    let unavailable = 0;
    const cache = new JwksCache(url, { refreshMs: 1000, maxStaleMs: 10_000, cooldownMs: 100, timeoutMs: 2000 }, { onStale: (age) => stale.push(age), onUnavailable: () => unavailable++ }, () => now);
    const verify = async () => jwtVerify(await sign(), cache.resolve, { issuer: 'iss', audience: 'aud' }).then(() => 'ok', (e: Error) => e.constructor.name);
    expect(await verify()).toBe('ok');
    up = false;
    now += 5000; // past the refresh interval: the refresh fails, the last good keys still verify
    expect(await verify()).toBe('ok');
    expect(stale).toEqual([5000]);
    now += 6000; // past the max age: no keys are trusted any more
    expect(await verify()).not.toBe('ok');
    expect(unavailable).toBeGreaterThanOrEqual(1);
    up = true;
    now += 1000;
    expect(await verify()).toBe('ok');
  });
});
