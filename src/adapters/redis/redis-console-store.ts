// The console's state in Redis: sessions by token hash (SET EX / GETEX EX: sliding TTL), the live
// view as two hashes in one slot (`{live}`: calls and replicas, EXPIRE on every write), one hash per
// UTC day of counters, cache-aside entries (SET EX), and one pub/sub channel for console events.
// Every key carries a TTL set in the same round trip as its write.
import type { CallOutcome } from '../../domain/call-records.js';
import type { ConsoleStore, LiveWrite } from '../../domain/console/console-store.js';
import type { Logger } from '../../logger.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

export class RedisConsoleStore implements ConsoleStore {
  #sub: RedisClient | null = null;

  constructor(
    private readonly deps: { readonly client: RedisClient; readonly keys: RedisKeys },
    private readonly log: Logger,
  ) {}

  async putSession(tokenHash: string, role: string, ttlS: number): Promise<void> {
    await this.deps.client.set(this.deps.keys.operatorSession(tokenHash), role, 'EX', ttlS);
  }

  async touchSession(tokenHash: string, ttlS: number): Promise<string | null> {
    return this.deps.client.getex(this.deps.keys.operatorSession(tokenHash), 'EX', ttlS);
  }

  async dropSession(tokenHash: string): Promise<void> {
    await this.deps.client.del(this.deps.keys.operatorSession(tokenHash));
  }

  async writeLive(write: LiveWrite, ttlS: number): Promise<void> {
    const { keys } = this.deps;
    const calls = keys.consoleLiveCalls();
    const replicas = keys.consoleReplicas();
    const p = this.deps.client.pipeline();
    if (write.upsert.length > 0) {
      const flat: string[] = [];
      for (const [id, json] of write.upsert) flat.push(id, json);
      p.hset(calls, ...flat);
    }
    if (write.remove.length > 0) p.hdel(calls, ...write.remove);
    if (write.replica) p.hset(replicas, write.replica[0], write.replica[1]);
    p.expire(calls, ttlS);
    p.expire(replicas, ttlS);
    await p.exec();
  }

  async readLive(): Promise<{ calls: string[]; replicas: string[] }> {
    const { keys } = this.deps;
    const res = await this.deps.client.pipeline().hvals(keys.consoleLiveCalls()).hvals(keys.consoleReplicas()).exec();
    const calls = (res?.[0]?.[1] as string[] | undefined) ?? [];
    const replicas = (res?.[1]?.[1] as string[] | undefined) ?? [];
    if (res?.[0]?.[0]) throw res[0][0];
    return { calls, replicas };
  }

  async pruneLive(callIds: readonly string[], workerIds: readonly string[]): Promise<void> {
    const p = this.deps.client.pipeline();
    if (callIds.length > 0) p.hdel(this.deps.keys.consoleLiveCalls(), ...callIds);
    if (workerIds.length > 0) p.hdel(this.deps.keys.consoleReplicas(), ...workerIds);
    if (callIds.length + workerIds.length > 0) await p.exec();
  }

  async recordEnded(day: string, hour: number, outcome: CallOutcome, durationMs: number, ttlS: number): Promise<void> {
    const key = this.deps.keys.consoleDay(day);
    await this.deps.client
      .pipeline()
      .hincrby(key, 'calls', 1)
      .hincrby(key, `outcome:${outcome}`, 1)
      .hincrby(key, `hour:${hour}`, 1)
      .hincrby(key, 'durationMs', Math.round(durationMs))
      .expire(key, ttlS)
      .exec();
  }

  async readDay(day: string): Promise<Record<string, number>> {
    const raw = await this.deps.client.hgetall(this.deps.keys.consoleDay(day));
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) out[k] = Number(v) || 0;
    return out;
  }

  /**
   * Only when the key is absent: a past day's key (the only kind that expires: today's is refreshed by
   * every call) gets no new increments, so the check-then-write cannot race a HINCRBY in practice.
   */
  async restoreDay(day: string, fields: Readonly<Record<string, number>>, ttlS: number): Promise<void> {
    const key = this.deps.keys.consoleDay(day);
    const flat = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    if (flat.length === 0 || (await this.deps.client.exists(key)) === 1) return;
    await this.deps.client.multi().hset(key, ...flat).expire(key, ttlS).exec();
  }

  cacheGet(name: string): Promise<string | null> {
    return this.deps.client.get(this.deps.keys.consoleCache(name));
  }

  async cacheSet(name: string, value: string, ttlS: number): Promise<void> {
    await this.deps.client.set(this.deps.keys.consoleCache(name), value, 'EX', ttlS);
  }

  async cacheDel(name: string): Promise<void> {
    await this.deps.client.del(this.deps.keys.consoleCache(name));
  }

  async publish(message: string): Promise<void> {
    await this.deps.client.publish(this.deps.keys.consoleChannel(), message);
  }

  async subscribe(onMessage: (message: string) => void): Promise<void> {
    if (this.#sub) return;
    const sub = this.deps.client.duplicate();
    this.#sub = sub;
    sub.on('error', (err: Error) => this.log.debug({ err }, 'console subscriber error'));
    const channel = this.deps.keys.consoleChannel();
    sub.on('message', (ch: string, msg: string) => {
      if (ch === channel) onMessage(msg);
    });
    // ioredis re-subscribes by itself after a reconnect once the first SUBSCRIBE went through.
    for (let delayMs = 100; this.#sub === sub; delayMs = Math.min(delayMs * 2, 2000)) {
      try {
        await sub.subscribe(channel);
        return;
      } catch (err) {
        this.log.debug({ err }, 'console channel subscribe failed; retrying');
        await new Promise((r) => setTimeout(r, delayMs).unref());
      }
    }
  }

  async close(): Promise<void> {
    const sub = this.#sub;
    this.#sub = null;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
