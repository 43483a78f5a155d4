// The port behind the operator console: sessions, the shared live view, the day's counters, the
// cache-aside entries and the event bus. Redis in production (every replica sees the same), an
// in-process fake with the same behaviour for STATE_BACKEND=memory and unit tests.
import type { CallOutcome } from '../call-records.js';

export interface LiveWrite {
  /** callId → JSON of its ConsoleCallView. */
  readonly upsert: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
  /** workerId → JSON of that replica's health. */
  readonly replica?: readonly [string, string];
}

export interface ConsoleStore {
  /** Stores a session by the SHA-256 of its token, with its role, for ttlS seconds. */
  putSession(tokenHash: string, role: string, ttlS: number): Promise<void>;
  /** The session's role, its TTL pushed back to ttlS (sliding); null when unknown or expired. */
  touchSession(tokenHash: string, ttlS: number): Promise<string | null>;
  dropSession(tokenHash: string): Promise<void>;

  /** Writes this replica's part of the live view; the view's keys live ttlS past the last write. */
  writeLive(write: LiveWrite, ttlS: number): Promise<void>;
  /** Every replica's entries (JSON strings), as written. */
  readLive(): Promise<{ calls: string[]; replicas: string[] }>;
  /** Deletes entries a reader found stale (their replica stopped refreshing them). */
  pruneLive(callIds: readonly string[], workerIds: readonly string[]): Promise<void>;

  /** Counts an ended call in its UTC day (`YYYY-MM-DD`, hour 0-23). */
  recordEnded(day: string, hour: number, outcome: CallOutcome, durationMs: number, ttlS: number): Promise<void>;
  readDay(day: string): Promise<Record<string, number>>;
  /** Puts a day's counters back (from their cold copy) with `ttlS`, unless the day's key exists again. */
  restoreDay(day: string, fields: Readonly<Record<string, number>>, ttlS: number): Promise<void>;

  cacheGet(name: string): Promise<string | null>;
  cacheSet(name: string, value: string, ttlS: number): Promise<void>;
  cacheDel(name: string): Promise<void>;

  /** Fans a message out to every replica (this one included). Fire-and-forget callers catch. */
  publish(message: string): Promise<void>;
  /** Receives every published message, in publish order. Resolves once subscribed. */
  subscribe(onMessage: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}
