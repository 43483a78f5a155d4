// Which workers are alive: each replica refreshes its heartbeat key (TTL_WORKER) on a timer every
// third of the TTL; a replica that dies disappears when its key expires. With a peer address
// (PEER_URL) it also publishes where the other replicas reach it, and keeps the last list of its
// live peers in memory: the one thing that still routes between replicas while Redis is down.
import type { TtlPolicy } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { RedisClient } from './redis-client.js';
import type { RedisKeys } from './keys.js';
import { toBackendError } from './redis-errors.js';
import { ttlFor } from './ttl-policy.js';

export interface Peer {
  readonly workerId: string;
  readonly url: string;
}

export class WorkerRegistry {
  #timer: NodeJS.Timeout | null = null;
  #peers: readonly Peer[] = [];
  #live = 1;

  constructor(
    private readonly deps: { client: RedisClient; keys: RedisKeys },
    private readonly cfg: { workerId: string; ttl: TtlPolicy; peerUrl?: string | undefined },
    private readonly log: Logger,
  ) {}

  /** The other live replicas and their addresses, as of the last heartbeat that reached Redis. */
  get peers(): readonly Peer[] {
    return this.#peers;
  }

  /** Live replicas, this one included, as of the last heartbeat that reached Redis (admission's fallback share). */
  get liveReplicas(): number {
    return this.#live;
  }

  get workerId(): string {
    return this.cfg.workerId;
  }

  /** Writes the heartbeat now and then every third of the TTL. */
  async start(): Promise<void> {
    if (!this.#timer) {
      const every = Math.max(200, (ttlFor(this.cfg.ttl, 'workerHeartbeat') * 1000) / 3);
      this.#timer = setInterval(() => {
        this.beat().catch((err: unknown) => this.log.warn({ err }, 'worker heartbeat failed'));
      }, every);
      this.#timer.unref();
    }
    await this.beat();
  }

  async beat(): Promise<void> {
    const ttl = ttlFor(this.cfg.ttl, 'workerHeartbeat');
    try {
      await this.deps.client.set(this.deps.keys.workerHeartbeat(this.cfg.workerId), String(Date.now()), 'EX', ttl);
      // Published without a peer address too (an empty one): every replica is counted.
      await this.#publishPeer(ttl);
    } catch (err) {
      throw toBackendError(err, 'heartbeat');
    }
  }

  /** One pipelined round trip: this replica's address in, the others' out (entries older than the TTL are dead). */
  async #publishPeer(ttl: number): Promise<void> {
    const key = this.deps.keys.workerPeers();
    const now = Date.now();
    const res = await this.deps.client
      .multi()
      .hset(key, this.cfg.workerId, `${now} ${this.cfg.peerUrl ?? ''}`)
      .expire(key, ttlFor(this.cfg.ttl, 'workerPeers') * 3)
      .hgetall(key)
      .exec();
    const all = (res?.[2]?.[1] ?? {}) as Record<string, string>;
    const live: Peer[] = [];
    const dead: string[] = [];
    let count = 0;
    for (const [workerId, v] of Object.entries(all)) {
      const i = v.indexOf(' ');
      const at = Number(v.slice(0, i));
      const url = v.slice(i + 1);
      if (!(now - at <= ttl * 1000)) dead.push(workerId);
      else {
        if (workerId !== this.cfg.workerId) count++;
        if (workerId !== this.cfg.workerId && url) live.push({ workerId, url });
      }
    }
    this.#live = count + 1;
    if (dead.length > 0) await this.deps.client.hdel(key, ...dead);
    this.#peers = live;
  }

  async isAlive(workerId: string): Promise<boolean> {
    try {
      return (await this.deps.client.exists(this.deps.keys.workerHeartbeat(workerId))) === 1;
    } catch (err) {
      throw toBackendError(err, 'isAlive');
    }
  }

  /** Stops the timer and removes the heartbeat (best effort: it expires anyway). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.deps.client.del(this.deps.keys.workerHeartbeat(this.cfg.workerId)).catch(() => undefined);
    await this.deps.client.hdel(this.deps.keys.workerPeers(), this.cfg.workerId).catch(() => undefined);
  }
}
