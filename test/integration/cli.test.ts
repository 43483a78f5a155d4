// The CLI as an operator meets it: a real process, its exit code and what it prints.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

function cli(args: string[], env: Record<string, string> = {}) {
  // A clean environment: nothing but PATH and what the test sets (no REDIS_URL etc. leaking in).
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const PRODUCTION_REQUIRED = [
  'REDIS_HOST',
  'COSMOS_ENDPOINT',
  'SERVICEBUS_NAMESPACE',
  'ACS_ENDPOINT',
  'ACS_RESOURCE_ID',
  'EVENTGRID_WEBHOOK_KEY',
  'ACS_COGNITIVE_SERVICES_ENDPOINT',
  'PUBLIC_BASE_URL',
];

describe('voice-worker CLI', () => {
  it('APP_ENV=prod serve with nothing set exits 2 listing every missing variable, no stack trace', () => {
    const r = cli(['serve'], { APP_ENV: 'prod' });
    expect(r.code).toBe(2);
    for (const name of PRODUCTION_REQUIRED) expect(r.err).toMatch(new RegExp(`^  - ${name}: required in production`, 'm'));
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('REDIS_URL=notaurl PUBLIC_BASE_URL=x PORT=y: all three named in one error, exit 2, no stack trace', () => {
    const r = cli(['serve'], { REDIS_URL: 'notaurl', PUBLIC_BASE_URL: 'x', PORT: 'y' });
    expect(r.code).toBe(2);
    const named = [...r.err.matchAll(/^ {2}- ([A-Z_]+):/gm)].map((m) => m[1]).sort();
    expect(named).toEqual(['PORT', 'PUBLIC_BASE_URL', 'REDIS_URL']);
    expect(r.err).not.toMatch(/TypeError|\n\s+at /);
  });

  it('a Redis key with / + = pasted unencoded into REDIS_URL is a config error naming REDIS_URL, never echoing the key', () => {
    const key = 'Ab/cD+ef=';
    const r = cli(['serve'], { REDIS_URL: `rediss://:${key}@x.redis.cache.windows.net:6380` });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/REDIS_URL: is not a valid URL .*percent-encode/);
    expect(r.err).not.toContain(key);
  });

  it('an unknown flag gets the command usage and exit 2', () => {
    const r = cli(['serve', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown option '--bogus'/);
    expect(r.err).toMatch(/Usage: voice-worker serve/);
    expect(r.err).not.toMatch(/TypeError|\n\s+at /);
  });

  it('--version prints the package version', () => {
    const r = cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^voice-worker \d+\.\d+\.\d+/);
  });
});
