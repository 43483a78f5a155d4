// The console's state in process memory (STATE_BACKEND=memory, one replica, unit tests): the same
// TTL behaviour as the Redis store, the bus delivering on the next turn of the event loop.
import type { CallOutcome } from '../../domain/call-records.js';
import type { ConsoleStore, LiveWrite } from '../../domain/console/console-store.js';
import type { Clock } from '../../domain/ports.js';
import { TtlMap } from './ttl-map.js';

export class MemoryConsoleStore implements ConsoleStore {
  readonly #sessions: TtlMap<string>;
  readonly #cache: TtlMap<string>;
  readonly #days: TtlMap<Record<string, number>>;
  readonly #calls = new Map<string, string>();
  readonly #replicas = new Map<string, string>();
  #liveUntil = 0;
  readonly #subscribers: ((message: string) => void)[] = [];

  constructor(private readonly deps: { readonly clock: Clock }) {
    this.#sessions = new TtlMap(deps.clock);
    this.#cache = new TtlMap(deps.clock);
    this.#days = new TtlMap(deps.clock);
  }

  async putSession(tokenHash: string, role: string, ttlS: number): Promise<void> {
    this.#sessions.set(tokenHash, role, ttlS);
  }

  async touchSession(tokenHash: string, ttlS: number): Promise<string | null> {
    const role = this.#sessions.get(tokenHash);
    if (role === undefined) return null;
    this.#sessions.touch(tokenHash, ttlS);
    return role;
  }

  async dropSession(tokenHash: string): Promise<void> {
    this.#sessions.delete(tokenHash);
  }

  async writeLive(write: LiveWrite, ttlS: number): Promise<void> {
    this.#expireLive();
    for (const [id, json] of write.upsert) this.#calls.set(id, json);
    for (const id of write.remove) this.#calls.delete(id);
    if (write.replica) this.#replicas.set(write.replica[0], write.replica[1]);
    this.#liveUntil = this.deps.clock.now() + ttlS * 1000;
  }

  async readLive(): Promise<{ calls: string[]; replicas: string[] }> {
    this.#expireLive();
    return { calls: [...this.#calls.values()], replicas: [...this.#replicas.values()] };
  }

  async pruneLive(callIds: readonly string[], workerIds: readonly string[]): Promise<void> {
    for (const id of callIds) this.#calls.delete(id);
    for (const id of workerIds) this.#replicas.delete(id);
  }

  async recordEnded(day: string, hour: number, outcome: CallOutcome, durationMs: number, ttlS: number): Promise<void> {
    const d = this.#days.get(day) ?? {};
    const inc = (k: string, by: number) => (d[k] = (d[k] ?? 0) + by);
    inc('calls', 1);
    inc(`outcome:${outcome}`, 1);
    inc(`hour:${hour}`, 1);
    inc('durationMs', Math.round(durationMs));
    this.#days.set(day, d, ttlS);
  }

  async readDay(day: string): Promise<Record<string, number>> {
    return { ...(this.#days.get(day) ?? {}) };
  }

  async restoreDay(day: string, fields: Readonly<Record<string, number>>, ttlS: number): Promise<void> {
    if (!this.#days.get(day)) this.#days.set(day, { ...fields }, ttlS);
  }

  async cacheGet(name: string): Promise<string | null> {
    return this.#cache.get(name) ?? null;
  }

  async cacheSet(name: string, value: string, ttlS: number): Promise<void> {
    this.#cache.set(name, value, ttlS);
  }

  async cacheDel(name: string): Promise<void> {
    this.#cache.delete(name);
  }

  async publish(message: string): Promise<void> {
    setImmediate(() => {
      for (const fn of this.#subscribers) fn(message);
    });
  }

  async subscribe(onMessage: (message: string) => void): Promise<void> {
    this.#subscribers.push(onMessage);
  }

  async close(): Promise<void> {
    this.#subscribers.length = 0;
  }

  #expireLive(): void {
    if (this.#liveUntil > 0 && this.#liveUntil <= this.deps.clock.now()) {
      this.#calls.clear();
      this.#replicas.clear();
      this.#liveUntil = 0;
    }
  }
}
