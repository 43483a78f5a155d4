// Microsoft Entra ID authentication for Azure Cache for Redis and Azure Managed Redis: the user is the
// managed identity's object id, the password a Microsoft Entra access token for
// https://redis.azure.com/.default. Tokens expire (about an hour), so the client must renew the token
// before expiry and send AUTH on its open connections, or Azure closes them:
//   https://learn.microsoft.com/azure/redis/entra-for-authentication ("Configure your Redis client to
//   use Microsoft Entra": User = object id, Password = the token, re-AUTH before it expires; renew at
//   least 3 minutes ahead)
//   https://learn.microsoft.com/azure/azure-cache-for-redis/cache-azure-active-directory-for-authentication
// New connections (reconnects, new cluster nodes) pick the current token from the client's options.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { RedisClient } from './redis-client.js';

export const REDIS_ENTRA_SCOPE = 'https://redis.azure.com/.default';

/** The part of @azure/core-auth's TokenCredential this module uses. */
export interface AccessTokenSource {
  getToken(scope: string): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

export interface EntraCredentials {
  readonly username: string;
  readonly password: string;
  readonly expiresOnTimestamp: number;
}

export interface RedisEntraAuthConfig {
  /** The identity's object id; default: the token's `oid` claim. */
  readonly username: string | undefined;
  /** Renew this long before expiry (Azure asks for at least 3 minutes). */
  readonly refreshBeforeMs: number;
  /** Retry delay after a failed renewal. */
  readonly retryMs: number;
}

export const DEFAULT_ENTRA_AUTH: Omit<RedisEntraAuthConfig, 'username'> = { refreshBeforeMs: 5 * 60_000, retryMs: 10_000 };

/** The `oid` claim of a JWT access token (no signature check: Redis checks the token, we only read a claim). */
export function objectIdOf(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: unknown };
    return typeof claims.oid === 'string' ? claims.oid : undefined;
  } catch {
    return undefined;
  }
}

/** Fetches a token and the user name to present with it. Throws when neither REDIS_USERNAME nor an oid claim names the user. */
export async function fetchEntraCredentials(source: AccessTokenSource, username: string | undefined): Promise<EntraCredentials> {
  const t = await source.getToken(REDIS_ENTRA_SCOPE);
  if (!t) throw new Error('no Microsoft Entra ID token for Redis (scope https://redis.azure.com/.default)');
  const user = username ?? objectIdOf(t.token);
  if (!user) throw new Error('the Redis Entra ID token has no oid claim: set REDIS_USERNAME to the identity\'s object id');
  return { username: user, password: t.token, expiresOnTimestamp: t.expiresOnTimestamp };
}

type Nodes = { nodes(role: 'all'): Redis[]; options: { redisOptions?: { username?: string; password?: string } } };

function isCluster(client: RedisClient): client is Cluster {
  return typeof (client as Partial<Nodes>).nodes === 'function' && 'isCluster' in client && (client as { isCluster: boolean }).isCluster;
}

/** Puts the credentials where every future connection reads them, and AUTHs every open one. */
export async function applyCredentials(client: RedisClient, creds: EntraCredentials): Promise<void> {
  const targets: Redis[] = [];
  if (isCluster(client)) {
    const ro = ((client as unknown as Nodes).options.redisOptions ??= {});
    ro.username = creds.username;
    ro.password = creds.password;
    targets.push(...client.nodes('all'));
  } else {
    targets.push(client as Redis);
  }
  await Promise.all(
    targets.map(async (node) => {
      node.options.username = creds.username;
      node.options.password = creds.password;
      if (node.status === 'ready') await node.auth(creds.username, creds.password);
    }),
  );
}

export interface EntraAuthKeeper {
  /** The expiry of the token in use (ms since epoch). */
  readonly expiresOnTimestamp: number;
  /** Renewals that succeeded. */
  readonly renewals: number;
  stop(): void;
}

/**
 * Keeps the client's token fresh: renews `refreshBeforeMs` before expiry, AUTHs open connections,
 * retries a failed renewal every `retryMs` (the old token stays valid until it expires).
 */
export function keepEntraAuth(
  deps: { client: RedisClient; source: AccessTokenSource; log: Logger; onRenewed?: () => void; onFailed?: (err: unknown) => void },
  cfg: RedisEntraAuthConfig,
  first: EntraCredentials,
): EntraAuthKeeper {
  let current = first;
  let renewals = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => void renew(), Math.max(1000, delayMs));
    timer.unref();
  };
  const renew = async () => {
    try {
      const next = await fetchEntraCredentials(deps.source, cfg.username);
      await applyCredentials(deps.client, next);
      current = next;
      renewals++;
      deps.onRenewed?.();
      deps.log.info({ expiresOn: new Date(next.expiresOnTimestamp).toISOString() }, 'redis Entra ID token renewed');
      schedule(next.expiresOnTimestamp - Date.now() - cfg.refreshBeforeMs);
    } catch (err) {
      deps.onFailed?.(err);
      deps.log.warn({ err, expiresOn: new Date(current.expiresOnTimestamp).toISOString() }, 'redis Entra ID token renewal failed; retrying');
      schedule(cfg.retryMs);
    }
  };
  schedule(first.expiresOnTimestamp - Date.now() - cfg.refreshBeforeMs);
  return {
    get expiresOnTimestamp() {
      return current.expiresOnTimestamp;
    },
    get renewals() {
      return renewals;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
