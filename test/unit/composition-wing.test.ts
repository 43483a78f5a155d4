// The composition wing: every SDK client is constructed in src/wiring/clients.ts and nowhere else in
// src (one DefaultAzureCredential, one ACS JWT verifier and so one JWKS cache per worker).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const CLIENTS = 'src/wiring/clients.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

const CONSTRUCTIONS: readonly [string, RegExp][] = [
  ['ioredis client', /\bnew\s+(Redis|Cluster)\s*\(/],
  ['Cosmos client', /\bnew\s+CosmosClient\s*\(/],
  ['Service Bus client', /\bnew\s+ServiceBusClient\s*\(/],
  ['Call Automation client', /\bnew\s+CallAutomationClient\s*\(/],
  ['OpenAI client', /\bnew\s+(OpenAI|AzureOpenAI)\s*\(/],
  ['Azure credential', /\bnew\s+(DefaultAzureCredential|ManagedIdentityCredential)\s*\(/],
  ['ACS JWT verifier', /\bcreateAcsJwtVerifier\s*\(/],
];

function offenders(files: readonly { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (f.path === CLIENTS || f.path === 'src/server/acs-auth.ts') continue; // acs-auth defines the verifier factory
    for (const [what, re] of CONSTRUCTIONS) if (re.test(f.text)) out.push(`${f.path}: ${what}`);
  }
  return out;
}

describe('composition wing', () => {
  const files = sources(join(root, 'src')).map((p) => ({ path: relative(root, p), text: readFileSync(p, 'utf8') }));

  it('no file in src but src/wiring/clients.ts constructs an SDK client or the ACS verifier', () => {
    expect(offenders(files)).toEqual([]);
  });

  it('the scan catches a client constructed outside clients.ts', () => {
    const planted = [
      { path: 'src/adapters/cosmos/x.ts', text: 'const c = new CosmosClient({ endpoint });' },
      { path: 'src/wiring/media-wiring.ts', text: 'const v = createAcsJwtVerifier({});' },
    ];
    expect(offenders(planted)).toEqual(['src/adapters/cosmos/x.ts: Cosmos client', 'src/wiring/media-wiring.ts: ACS JWT verifier']);
  });

  it('clients.ts constructs each of them', () => {
    const text = readFileSync(join(root, CLIENTS), 'utf8');
    for (const [what, re] of CONSTRUCTIONS) expect(re.test(text), what).toBe(true);
  });

  it('server/ holds no wiring and adapters/ no wiring files', () => {
    const wiringNamed = files.filter((f) => /wiring|create-worker|main\.ts$/.test(f.path) && !f.path.startsWith('src/wiring/'));
    expect(wiringNamed.map((f) => f.path)).toEqual([]);
  });

  it('test instrumentation (round-trip counters) is not shipped in src', () => {
    expect(files.filter((f) => /round-?trip.*counter|countRoundTrips/i.test(f.text)).map((f) => f.path)).toEqual([]);
  });
});
