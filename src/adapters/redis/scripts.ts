// Lua scripts, read from scripts/<name>-<numKeys>.lua at start (the build copies them into dist), and
// registered with defineCommand under a versioned name (appendTurnV1) so that replicas running
// different script versions coexist during a rolling deploy. Bump a script's `-- version: N` header
// line (default 1) whenever its behaviour changes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-client.js';

export const SCRIPT_DIR = fileURLToPath(new URL('./scripts/', import.meta.url));

export type ScriptName =
  | 'appendTurn'
  | 'getConversation'
  | 'updateContext'
  | 'acquireLease'
  | 'renewLease'
  | 'releaseLease'
  | 'holdEvent'
  | 'takeHeld'
  | 'rateLimit'
  | 'acquireSlot'
  | 'releaseSlot'
  | 'archiveSummary'
  | 'reserveCallSlot'
  | 'confirmCallSlot'
  | 'renewCallSlots'
  | 'campaignLease';

export interface ScriptDef {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly version: number;
  /** The name registered with defineCommand, e.g. appendTurnV1. */
  readonly command: string;
  readonly lua: string;
}

const FILE = /^([a-z][a-z0-9-]*)-(\d+)\.lua$/;

function camel(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Parses one script file; throws when the name or the KEYS / ARGV / returns header is missing. */
export function parseScript(file: string, lua: string): ScriptDef {
  const m = FILE.exec(file);
  if (!m) throw new Error(`lua script ${file}: name must be <name>-<numKeys>.lua`);
  const header = lua.split('\n').filter((l) => l.startsWith('--')).join('\n');
  for (const part of ['KEYS', 'ARGV', 'returns']) {
    if (!header.includes(part)) throw new Error(`lua script ${file}: header comment must document ${part}`);
  }
  const version = Number(/^--\s*version:\s*(\d+)/m.exec(lua)?.[1] ?? 1);
  const name = camel(m[1] as string);
  return { name, numberOfKeys: Number(m[2]), version, command: `${name}V${version}`, lua };
}

export function loadScripts(dir: string = SCRIPT_DIR): Map<string, ScriptDef> {
  const defs = new Map<string, ScriptDef>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua')).sort()) {
    const def = parseScript(file, readFileSync(join(dir, file), 'utf8'));
    // A script whose key count changed is a new file; a build over an old dist/ may still hold the
    // previous one: the higher version is the one in use.
    const other = defs.get(def.name);
    if (!other || other.version < def.version) defs.set(def.name, def);
  }
  return defs;
}

type Invoke = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/** The registered scripts of one client: run them directly or queue them on a pipeline. */
export class RedisScripts {
  readonly #defs: Map<string, ScriptDef>;

  constructor(private readonly client: RedisClient, defs: Map<string, ScriptDef> = loadScripts()) {
    this.#defs = defs;
    for (const d of defs.values()) {
      // defineCommand is idempotent per name; a client shared by several adapters registers once.
      const registered = client as unknown as Record<string, unknown>;
      if (typeof registered[d.command] !== 'function') client.defineCommand(d.command, { numberOfKeys: d.numberOfKeys, lua: d.lua });
    }
  }

  def(name: ScriptName): ScriptDef {
    const d = this.#defs.get(name);
    if (!d) throw new Error(`lua script ${name} is not loaded`);
    return d;
  }

  #check(d: ScriptDef, keys: readonly string[]): void {
    if (keys.length !== d.numberOfKeys) throw new Error(`lua script ${d.name} takes ${d.numberOfKeys} keys, got ${keys.length}`);
  }

  /** Runs a script (one round trip: EVALSHA, with EVAL only when the server lost the script). */
  run(name: ScriptName, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown> {
    const d = this.def(name);
    this.#check(d, keys);
    const fn = (this.client as unknown as Record<string, Invoke>)[d.command] as Invoke;
    return fn.call(this.client, ...keys, ...args);
  }

  /** Queues a script on a pipeline. */
  queue(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): void {
    const d = this.def(name);
    this.#check(d, keys);
    const fn = (pipeline as unknown as Record<string, (...a: (string | number)[]) => unknown>)[d.command];
    if (!fn) throw new Error(`lua script ${d.command} is not defined on this pipeline`);
    fn.call(pipeline, ...keys, ...args);
  }
}
