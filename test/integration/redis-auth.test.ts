// Redis credentials end to end against a password-protected redis-server started by this test:
// the key path with an access key containing / + = (REDIS_HOST + REDIS_PASSWORD, or a percent-encoded
// REDIS_URL), and the Microsoft Entra ID path (user = object id, password = token, renewed before
// expiry with AUTH on the open connection; reconnects use the new token). Azure's rules for the
// Entra path: https://learn.microsoft.com/azure/redis/entra-for-authentication
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { waitForReady, type RedisClient } from '../../src/adapters/redis/redis-client.js';
import { REDIS_ENTRA_SCOPE, type AccessTokenSource } from '../../src/adapters/redis/redis-entra-auth.js';
import { createRedisClient } from '../../src/wiring/clients.js';
import { startRedisServer, type PrivateRedis } from '../support/redis-server.js';

/** A base64 access key like Azure's that contains each of / + = (Azure keys are base64 of 32 bytes). */
function keyWithSpecials(): string {
  for (;;) {
    const k = randomBytes(32).toString('base64');
    if (k.includes('/') && k.includes('+') && k.endsWith('=')) return k;
  }
}

const KEY = keyWithSpecials();
let server: PrivateRedis;
let admin: Redis;
const clients: RedisClient[] = [];

beforeAll(async () => {
  server = await startRedisServer({ extraArgs: ['--requirepass', KEY] });
  admin = new Redis({ port: server.port, host: '127.0.0.1', password: KEY, lazyConnect: true });
  await admin.connect();
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  admin.disconnect();
  await server.stop();
});

async function roundTrip(client: RedisClient): Promise<string | null> {
  const k = `test-auth-${randomBytes(4).toString('hex')}`;
  await client.set(k, 'v', 'EX', 30);
  return client.get(k);
}

describe('Redis access key with / + =', () => {
  it('REDIS_HOST + REDIS_PASSWORD: the key is used as it is', async () => {
    expect(KEY).toMatch(/[/+=]/);
    const config = loadConfig({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(server.port), REDIS_PASSWORD: KEY, REDIS_TLS: 'false' });
    const client = createRedisClient(config.state, silentLogger());
    clients.push(client);
    await waitForReady(client, 5000);
    expect(await roundTrip(client)).toBe('v');
  });

  it('REDIS_URL with the key percent-encoded', async () => {
    const config = loadConfig({ REDIS_URL: `redis://:${encodeURIComponent(KEY)}@127.0.0.1:${server.port}` });
    const client = createRedisClient(config.state, silentLogger());
    clients.push(client);
    await waitForReady(client, 5000);
    expect(await roundTrip(client)).toBe('v');
  });

  it('a wrong key never becomes ready', async () => {
    const config = loadConfig({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(server.port), REDIS_PASSWORD: `${KEY}x`, REDIS_TLS: 'false' });
    const client = createRedisClient(config.state, silentLogger());
    clients.push(client);
    await expect(waitForReady(client, 800)).rejects.toThrow(/not ready/);
    client.disconnect();
  });
});

/** Entra-shaped tokens (header.payload.signature, payload with oid) from a source the test controls. */
// Each token names a different oid (a test device: Azure's stay the same), so ACL WHOAMI on the open
// connection shows whether the renewed token was sent with AUTH without reconnecting.
class TestTokens implements AccessTokenSource {
  readonly issued: string[] = [];
  readonly oids: string[] = [];
  scopes: string[] = [];
  constructor(private readonly lifetimeMs: number) {}
  get oid(): string {
    return this.oids.at(-1) as string;
  }
  async getToken(scope: string) {
    this.scopes.push(scope);
    this.oids.push(`00000000-0000-0000-0000-${randomBytes(6).toString('hex')}`);
    const payload = Buffer.from(JSON.stringify({ oid: this.oid, n: randomBytes(6).toString('hex') })).toString('base64url');
    const token = `eyJhbGciOiJSUzI1NiJ9.${payload}.c2ln`;
    this.issued.push(token);
    // Each token is made a valid password of the ACL user before the client sees it.
    await admin.call('ACL', 'SETUSER', this.oid, 'on', `>${token}`, '~*', '&*', '+@all');
    return { token, expiresOnTimestamp: Date.now() + this.lifetimeMs };
  }
}

describe('Redis with Microsoft Entra ID', () => {
  it('connects as the token oid, re-AUTHs before expiry, and reconnects with the renewed token', async () => {
    // Renew 60 s before expiry of a 61.5 s token: the first renewal comes ~1.5 s after connecting.
    const tokens = new TestTokens(61_500);
    const client = createRedisClient(
      { redisUrl: `redis://127.0.0.1:${server.port}`, clusterNodes: [], commandTimeoutMs: 1000, auth: { kind: 'entra', username: undefined } },
      silentLogger(),
      tokens,
      { refreshBeforeMs: 60_000, retryMs: 500 },
    );
    clients.push(client);
    let connects = 0;
    client.on('ready', () => connects++);
    await waitForReady(client, 5000);
    expect(tokens.scopes[0]).toBe(REDIS_ENTRA_SCOPE);
    const [first] = tokens.oids;
    expect(await client.call('ACL', 'WHOAMI')).toBe(first);
    expect(await roundTrip(client)).toBe('v');

    await expect.poll(() => tokens.issued.length, { timeout: 5000, interval: 100 }).toBe(2);
    const second = tokens.oids[1];
    // The renewed token was sent with AUTH on the open connection: same connection, new identity.
    await expect.poll(() => client.call('ACL', 'WHOAMI'), { timeout: 2000, interval: 50 }).toBe(second);
    expect(connects).toBe(1);

    // The first token stops working; the connection drops; the reconnect must use the renewed token.
    await admin.call('ACL', 'DELUSER', first as string);
    await admin.call('CLIENT', 'KILL', 'USER', second as string);
    await expect.poll(() => connects, { timeout: 5000, interval: 50 }).toBe(2);
    expect(await client.call('ACL', 'WHOAMI')).toBe(second);
    expect(await roundTrip(client)).toBe('v');
  });
});
