// The architecture rule is enforced by ESLint: prove the rule fires, and that the domain is clean.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

describe('domain imports no SDK (lint rule)', () => {
  it.each([
    ["import { Redis } from 'ioredis';"],
    ["import { CosmosClient } from '@azure/cosmos';"],
    ["import { WebSocket } from 'ws';"],
    ["import Fastify from 'fastify';"],
    ["import { pino } from 'pino';"],
    ["import { x } from '../adapters/redis/keys.js';"],
  ])('rejects %s in src/domain', async (line) => {
    const [result] = await eslint.lintText(`${line}\nexport const y = 1;\n`, { filePath: 'src/domain/probe.ts' });
    expect(result?.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
  });

  it('allows the same import in an adapter', async () => {
    const [result] = await eslint.lintText("import { Redis } from 'ioredis';\nexport const r = Redis;\n", { filePath: 'src/adapters/redis/probe.ts' });
    expect(result?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });

  it('the current src/domain passes', async () => {
    const results = await eslint.lintFiles(['src/domain/**/*.ts']);
    const restricted = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}: ${m.message}`));
    expect(restricted).toEqual([]);
  });
});
