// Which workers are alive: each replica refreshes its heartbeat key (TTL_WORKER) on a timer every
// third of the TTL; a replica that dies disappears when its key expires.
import type { TtlPolicy } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { RedisClient } from './redis-client.js';
import type { RedisKeys } from './keys.js';
import { toBackendError } from './redis-errors.js';
import { ttlFor } from './ttl-policy.js';

export class WorkerRegistry {
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { client: RedisClient; keys: RedisKeys },
    private readonly cfg: { workerId: string; ttl: TtlPolicy },
    private readonly log: Logger,
  ) {}

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
    try {
      await this.deps.client.set(this.deps.keys.workerHeartbeat(this.cfg.workerId), String(Date.now()), 'EX', ttlFor(this.cfg.ttl, 'workerHeartbeat'));
    } catch (err) {
      throw toBackendError(err, 'heartbeat');
    }
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
  }
}
