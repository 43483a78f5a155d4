// Admission primitives over Redis, each one atomic script and one round trip: a fixed-window rate
// limiter (TTL_RATE window) and per-tenant concurrency slots that expire unless renewed (TTL_LEASE),
// so a replica that dies without releasing frees its slots on its own.
import type { TtlPolicy } from '../../config.js';
import type { Clock } from '../../domain/ports.js';
import type { RedisKeys } from './keys.js';
import { SCRIPT_CODE, checkCode, toBackendError } from './redis-errors.js';
import type { RedisScripts } from './scripts.js';
import { ttlFor } from './ttl-policy.js';

export interface RateDecision {
  readonly admitted: boolean;
  readonly hits: number;
}

export class RedisRateLimiter {
  constructor(
    private readonly deps: { scripts: RedisScripts; keys: RedisKeys },
    private readonly ttl: TtlPolicy,
  ) {}

  /** Counts one hit against `name`; admitted while hits in the current window stay within `limit`. */
  async hit(name: string, limit: number): Promise<RateDecision> {
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run('rateLimit', [this.deps.keys.rateWindow(name)], [limit, ttlFor(this.ttl, 'rateWindow')]);
    } catch (err) {
      throw toBackendError(err, 'rateLimit');
    }
    const [code, hits] = reply as [number, number];
    if (code !== SCRIPT_CODE.RATE_LIMITED) checkCode(code, `rate ${name}`);
    return { admitted: code === SCRIPT_CODE.OK, hits: Number(hits) };
  }
}

export class RedisConcurrencySlots {
  constructor(
    private readonly deps: { scripts: RedisScripts; keys: RedisKeys; clock: Clock },
    private readonly ttl: TtlPolicy,
  ) {}

  /** Takes (or renews) a slot for `holder`; false when `limit` slots are in use by others. */
  async acquire(tenant: string, holder: string, limit: number): Promise<boolean> {
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run('acquireSlot', [this.deps.keys.slots(tenant)], [limit, holder, this.deps.clock.now(), ttlFor(this.ttl, 'slots')]);
    } catch (err) {
      throw toBackendError(err, 'acquireSlot');
    }
    const [code] = reply as [number, number];
    if (code === SCRIPT_CODE.NO_SLOT) return false;
    checkCode(code, `slots ${tenant}`);
    return true;
  }

  async release(tenant: string, holder: string): Promise<void> {
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run('releaseSlot', [this.deps.keys.slots(tenant)], [holder]);
    } catch (err) {
      throw toBackendError(err, 'releaseSlot');
    }
    checkCode((reply as unknown[])[0], `slots ${tenant}`);
  }
}
