// EventRouter over Redis pub/sub. Each worker subscribes to its own channel; forward() looks up the
// call's owner (affinity) and PUBLISHes to it. With no owner, or an owner whose heartbeat is gone, the
// event is held in a per-call list (bounded, TTL_PENDING) by a script that re-checks the owner in the
// same slot, so an event never falls between "no owner yet" and "owner took the call": takeHeld, run
// by the new owner after acquiring the lease, returns it.
import type { TtlPolicy } from '../../config.js';
import type { CallbackEnvelope, EventRouter } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-client.js';
import type { RedisKeys } from './keys.js';
import { parseOwner } from './redis-affinity.js';
import { checkCode, toBackendError } from './redis-errors.js';
import type { RedisScripts } from './scripts.js';
import { ttlFor } from './ttl-policy.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface RedisEventRouterConfig {
  readonly workerId: string;
  readonly ttl: TtlPolicy;
  /** Events held per call at most (oldest dropped). */
  readonly maxHeldPerCall: number;
}

export function parseEnvelope(raw: string): CallbackEnvelope | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const e = v as Record<string, unknown>;
  if (typeof e.callId !== 'string' || typeof e.id !== 'string' || typeof e.type !== 'string') return null;
  if (!e.data || typeof e.data !== 'object' || Array.isArray(e.data)) return null;
  if (e.time !== null && typeof e.time !== 'string') return null;
  return { callId: e.callId, id: e.id, type: e.type, data: e.data as Record<string, unknown>, time: e.time };
}

export class RedisEventRouter implements EventRouter {
  #sub: RedisClient | null = null;
  #retry: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  readonly #resubscribed: (() => void)[] = [];

  /** Runs each time the subscriber connection is ready again after a reconnect (ioredis re-subscribes). */
  onResubscribed(fn: () => void): void {
    this.#resubscribed.push(fn);
  }

  constructor(
    private readonly deps: { client: RedisClient; scripts: RedisScripts; keys: RedisKeys; workers: WorkerRegistry; onForwarded?: (outcome: 'forwarded' | 'held' | 'received' | 'dropped') => void },
    private readonly cfg: RedisEventRouterConfig,
    private readonly log: Logger,
  ) {}

  /**
   * Subscribes this replica's channel. Resolves once subscribed; while Redis is unreachable it keeps
   * trying (backoff up to 2 s) rather than failing for good: ioredis re-subscribes after a reconnect
   * only once a SUBSCRIBE went through, so a replica that booted during an outage would otherwise
   * never receive a forwarded event. Resolves without subscribing if stop() comes first.
   */
  async start(deliver: (env: CallbackEnvelope) => void): Promise<void> {
    if (this.#sub) return;
    const sub = this.deps.client.duplicate();
    this.#sub = sub;
    sub.on('error', (err: Error) => this.log.debug({ err }, 'event subscriber error'));
    let subscribed = false;
    sub.on('ready', () => {
      if (!subscribed) return;
      // Events forwarded while the channel was down were held (no live subscriber): collect them.
      setImmediate(() => {
        for (const fn of this.#resubscribed) fn();
      });
    });
    const channel = this.deps.keys.workerChannel(this.cfg.workerId);
    sub.on('message', (ch: string, msg: string) => {
      if (ch !== channel) return;
      const env = parseEnvelope(msg);
      if (!env) {
        this.deps.onForwarded?.('dropped');
        this.log.warn('dropped a malformed forwarded event');
        return;
      }
      this.deps.onForwarded?.('received');
      try {
        deliver(env);
      } catch (err) {
        this.log.error({ err, callId: env.callId }, 'delivering a forwarded event failed');
      }
    });
    for (let attempt = 0, delayMs = 100; this.#sub === sub; attempt++, delayMs = Math.min(delayMs * 2, 2000)) {
      try {
        await sub.subscribe(channel);
        subscribed = true;
        if (attempt > 0) this.log.info({ attempts: attempt + 1 }, 'event channel subscribed');
        return;
      } catch (err) {
        // A timed-out SUBSCRIBE may still go through; subscribing again is harmless.
        const e = toBackendError(err, 'subscribe');
        if (attempt === 0) this.log.warn({ err: e }, 'event channel not subscribed yet; retrying');
        else this.log.debug({ err: e, attempt }, 'event channel subscribe retry failed');
      }
      await new Promise<void>((resolve) => {
        this.#retry = { timer: setTimeout(resolve, delayMs), resolve };
        this.#retry.timer.unref();
      });
      this.#retry = null;
    }
  }

  async forward(env: CallbackEnvelope): Promise<'forwarded' | 'held'> {
    const k = this.deps.keys;
    const payload = JSON.stringify(env);
    let dead = '';
    try {
      const cur = parseOwner(await this.deps.client.get(k.callOwner(env.callId)));
      if (cur) {
        // One server counts the subscribers that got the message: that is the answer. A Cluster counts
        // only its own node's, so there the owner's heartbeat says whether it lives. (After Redis
        // restarted empty the heartbeat may be missing for a few seconds while the owner is back.)
        const cluster = this.deps.client instanceof Cluster;
        if ((!cluster || (await this.deps.workers.isAlive(cur.owner))) && (await this.#publish(cur.owner, payload))) return this.#done('forwarded');
        dead = cur.owner;
      }
      const [code, held, owner] = (await this.deps.scripts.run(
        'holdEvent',
        [k.callPending(env.callId), k.callOwner(env.callId)],
        [payload, this.cfg.maxHeldPerCall, ttlFor(this.cfg.ttl, 'callPending'), dead],
      )) as [number, number, string];
      checkCode(code, `event ${env.id}`);
      if (held === 1) return this.#done('held');
      await this.#publish(owner, payload);
      return this.#done('forwarded');
    } catch (err) {
      throw toBackendError(err, 'forward');
    }
  }

  /**
   * Parks an event that reached this replica for a call it does not hold (it ended here, or moved on):
   * held for the owner to collect, or published to an owner other than this replica.
   */
  async hold(env: CallbackEnvelope): Promise<'forwarded' | 'held'> {
    const k = this.deps.keys;
    const payload = JSON.stringify(env);
    try {
      const [code, held, owner] = (await this.deps.scripts.run(
        'holdEvent',
        [k.callPending(env.callId), k.callOwner(env.callId)],
        [payload, this.cfg.maxHeldPerCall, ttlFor(this.cfg.ttl, 'callPending'), this.cfg.workerId],
      )) as [number, number, string];
      checkCode(code, `event ${env.id}`);
      if (held === 1) return this.#done('held');
      await this.#publish(owner, payload);
      return this.#done('forwarded');
    } catch (err) {
      throw toBackendError(err, 'hold');
    }
  }

  /** PUBLISH; false when a single server reports no subscriber (a Cluster only counts its own node). */
  async #publish(owner: string, payload: string): Promise<boolean> {
    const receivers = await this.deps.client.publish(this.deps.keys.workerChannel(owner), payload);
    return receivers > 0 || this.deps.client instanceof Cluster;
  }

  #done<T extends 'forwarded' | 'held'>(outcome: T): T {
    this.deps.onForwarded?.(outcome);
    return outcome;
  }

  async takeHeld(callId: string): Promise<CallbackEnvelope[]> {
    let reply: unknown;
    try {
      reply = await this.deps.scripts.run('takeHeld', [this.deps.keys.callPending(callId)], []);
    } catch (err) {
      throw toBackendError(err, 'takeHeld');
    }
    const [code, items] = reply as [number, string[]];
    checkCode(code, `held events ${callId}`);
    const out: CallbackEnvelope[] = [];
    for (const raw of items) {
      const env = parseEnvelope(raw);
      if (env) out.push(env);
    }
    return out;
  }

  async stop(): Promise<void> {
    const sub = this.#sub;
    this.#sub = null;
    if (this.#retry) {
      clearTimeout(this.#retry.timer);
      this.#retry.resolve();
      this.#retry = null;
    }
    if (!sub) return;
    await sub.quit().catch(() => sub.disconnect());
  }
}
