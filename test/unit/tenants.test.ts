import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { isVoiceError } from '../../src/domain/errors.js';
import { normalizeNumber, tenantResolver } from '../../src/domain/tenants.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (isVoiceError(err, 'CONFIG')) return [...(err as unknown as { problems: string[] }).problems];
    throw err;
  }
  return [];
}

const TENANTS = JSON.stringify([
  { id: 'acme', maxConcurrent: 10, numbers: ['+18005550100', '+18005550101'] },
  { id: 'globex', maxConcurrent: 3, numbers: ['+442071234567'] },
]);

describe('tenants by called number', () => {
  const r = tenantResolver(loadConfig({ TENANTS, DEFAULT_TENANT: 'walk-in', DEFAULT_TENANT_MAX_CONCURRENT: '5' }).admission.tenants);

  it('finds the tenant whose table lists the called number, in any of the ACS spellings', () => {
    expect(r.byCalledNumber('+18005550101').id).toBe('acme');
    expect(r.byCalledNumber('4:+18005550100').id).toBe('acme');
    expect(r.byCalledNumber('tel:+44 20 7123 4567').id).toBe('globex');
    expect(r.byCalledNumber('+18005550100').maxConcurrent).toBe(10);
  });

  it('puts a number no tenant lists (or no number) under the default tenant with its cap', () => {
    expect(r.byCalledNumber('+15555550123')).toEqual({ id: 'walk-in', maxConcurrent: 5 });
    expect(r.byCalledNumber(null).id).toBe('walk-in');
    expect(r.all.map((t) => t.id).sort()).toEqual(['acme', 'globex', 'walk-in']);
  });

  it('normalizes numbers', () => {
    expect(normalizeNumber(' 4:+1 (800) 555-0100 ')).toBe('+18005550100');
  });
});

describe('admission config', () => {
  it('defaults: no tenants, default tenant cap 10000, no global cap, no rate limit, a one-minute window', () => {
    const a = loadConfig({}).admission;
    expect(a.tenants.tenants).toEqual([]);
    expect(a.tenants.defaultTenant).toEqual({ id: 'default', maxConcurrent: 10_000 });
    expect([a.globalMaxConcurrent, a.maxCallsPerWindow, a.rateWindowMs]).toEqual([0, 0, 60_000]);
  });

  it('reads the caps and the compressed window', () => {
    const a = loadConfig({ GLOBAL_MAX_CONCURRENT_CALLS: '50', MAX_CALLS_PER_MINUTE: '600', RATE_LIMIT_WINDOW_MS: '6000' }).admission;
    expect([a.globalMaxConcurrent, a.maxCallsPerWindow, a.rateWindowMs]).toEqual([50, 600, 6000]);
  });

  it('names TENANTS when it is not JSON, without echoing the value', () => {
    const problems = problemsOf({ TENANTS: '[{"id": "acme", +1800' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^TENANTS: is not valid JSON/);
    expect(problems[0]).not.toContain('+1800');
  });

  it('lists every bad tenant field and bad number in one error', () => {
    const problems = problemsOf({
      TENANTS: JSON.stringify([{ id: 'a b', maxConcurrent: 0, numbers: ['555-0100'] }]),
      MAX_CALLS_PER_MINUTE: 'many',
      RATE_LIMIT_WINDOW_MS: '5',
    });
    const vars = problems.map((p) => p.split('.')[0]?.split(':')[0]);
    expect(vars.filter((v) => v === 'TENANTS')).toHaveLength(3);
    expect(vars).toContain('MAX_CALLS_PER_MINUTE');
    expect(vars).toContain('RATE_LIMIT_WINDOW_MS');
    expect(problems.join('\n')).not.toContain('555-0100');
  });

  it('refuses a number claimed by two tenants and a duplicate tenant id', () => {
    const problems = problemsOf({
      TENANTS: JSON.stringify([
        { id: 'a', maxConcurrent: 1, numbers: ['+18005550100'] },
        { id: 'a', maxConcurrent: 1, numbers: ['+18005550100'] },
      ]),
    });
    expect(problems.some((p) => /appears twice/.test(p))).toBe(true);
    expect(problems.some((p) => /also belongs to another tenant/.test(p))).toBe(true);
  });
});
