import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCRIPT_DIR, loadScripts, parseScript, type ScriptName } from '../../src/adapters/redis/scripts.js';
import { SCRIPT_CODE, isBackendDown, scriptError, toBackendError } from '../../src/adapters/redis/redis-errors.js';
import { isVoiceError } from '../../src/domain/errors.js';

const NAMES: ScriptName[] = ['appendTurn', 'getConversation', 'updateContext', 'acquireLease', 'renewLease', 'releaseLease', 'holdEvent', 'takeHeld', 'rateLimit', 'acquireSlot', 'releaseSlot', 'archiveSummary', 'reserveCallSlot', 'confirmCallSlot', 'renewCallSlots', 'campaignLease'];

describe('lua scripts on disk', () => {
  it('loads every scripts/<name>-<numKeys>.lua under a versioned command name', () => {
    const defs = loadScripts();
    expect(defs.size).toBe(readdirSync(SCRIPT_DIR).filter((f) => f.endsWith('.lua')).length);
    expect([...defs.keys()].sort()).toEqual([...NAMES].sort());
    const append = defs.get('appendTurn');
    expect(append).toMatchObject({ numberOfKeys: 4, version: 3, command: 'appendTurnV3' });
    expect(defs.get('getConversation')?.numberOfKeys).toBe(3);
    expect(defs.get('renewLease')?.numberOfKeys).toBe(2);
  });

  it('keeps the higher version when an old file of the same script is still there (a build over an old dist/)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scripts-'));
    try {
      // the new version takes fewer keys, so the stale file sorts after it
      writeFileSync(join(dir, 'do-thing-3.lua'), '-- version: 3\n-- KEYS ARGV returns\nreturn 3');
      writeFileSync(join(dir, 'do-thing-4.lua'), '-- version: 2\n-- KEYS ARGV returns\nreturn 2');
      expect(loadScripts(dir).get('doThing')).toMatchObject({ numberOfKeys: 3, command: 'doThingV3' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a badly named file or one without the KEYS / ARGV / returns header', () => {
    expect(() => parseScript('appendTurn.lua', '-- KEYS ARGV returns')).toThrow(/<name>-<numKeys>/);
    expect(() => parseScript('x-1.lua', '-- KEYS[1] k\n-- ARGV none\nreturn 0')).toThrow(/returns/);
    expect(parseScript('do-thing-2.lua', '-- version: 3\n-- KEYS[1]\n-- ARGV\n-- returns 0\nreturn 0')).toMatchObject({ name: 'doThing', numberOfKeys: 2, command: 'doThingV3' });
  });
});

describe('script codes and client failures', () => {
  it('maps each code to one typed error', () => {
    expect(scriptError(SCRIPT_CODE.OK, 'x')).toBeNull();
    expect(isVoiceError(scriptError(SCRIPT_CODE.STALE_FENCE, 'x'), 'STALE_FENCE')).toBe(true);
    expect(isVoiceError(scriptError(SCRIPT_CODE.SCHEMA_NEWER, 'x'), 'STATE_SCHEMA')).toBe(true);
    expect(isVoiceError(scriptError(SCRIPT_CODE.LEASE_GONE, 'x'), 'LEASE_LOST')).toBe(true);
    expect(isVoiceError(scriptError(SCRIPT_CODE.RATE_LIMITED, 'x'), 'RATE_LIMITED')).toBe(true);
    expect(isVoiceError(scriptError(SCRIPT_CODE.NO_SLOT, 'x'), 'OVERLOADED')).toBe(true);
    expect(isVoiceError(scriptError(-99, 'x'), 'BACKEND_UNAVAILABLE')).toBe(true);
  });

  it('classifies timeouts and connection loss as backend down, and nothing else', () => {
    expect(isVoiceError(toBackendError(new Error('Command timed out'), 'op'), 'BACKEND_TIMEOUT')).toBe(true);
    expect(isVoiceError(toBackendError(new Error('Connection is closed.'), 'op'), 'BACKEND_UNAVAILABLE')).toBe(true);
    expect(isBackendDown(toBackendError(new Error('Connection is closed.'), 'op'))).toBe(true);
    expect(isBackendDown(scriptError(SCRIPT_CODE.STALE_FENCE, 'x'))).toBe(false);
    expect(isBackendDown(new Error('plain'))).toBe(false);
  });
});
