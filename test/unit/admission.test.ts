import { describe, expect, it } from 'vitest';
import { createAdmission, type SharedRateLimiter } from '../../src/server/admission.js';
import { CallRegistry, LiveCall } from '../../src/domain/live-call.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/metrics.js';

function registryWith(n: number): CallRegistry {
  const calls = new CallRegistry();
  for (let i = 0; i < n; i++) calls.add(new LiveCall({ callId: `c${i}`, from: 'a', to: 'b', correlationId: null, startedAt: 0, log: silentLogger() }));
  return calls;
}

function limiter(decide: () => boolean | Error): SharedRateLimiter & { hits: number } {
  const l = {
    hits: 0,
    async hit() {
      l.hits++;
      const d = decide();
      if (d instanceof Error) throw d;
      return { admitted: d };
    },
  };
  return l;
}

describe('admission', () => {
  it('refuses at the local ceiling without asking Redis', async () => {
    const l = limiter(() => true);
    const admit = createAdmission({ calls: registryWith(3), limiter: l, registry: createRegistry({ defaultMetrics: false }), log: silentLogger() }, { maxConcurrent: 3, perWindow: 10 });
    expect(await admit()).toBe(false);
    expect(l.hits).toBe(0);
  });

  it('follows the shared rate limit when Redis answers', async () => {
    let n = 0;
    const admit = createAdmission(
      { calls: registryWith(0), limiter: limiter(() => ++n <= 2), registry: createRegistry({ defaultMetrics: false }), log: silentLogger() },
      { maxConcurrent: 100, perWindow: 2 },
    );
    expect([await admit(), await admit(), await admit()]).toEqual([true, true, false]);
  });

  it('falls back to the local ceiling when Redis cannot answer, and counts it', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const admit = createAdmission({ calls: registryWith(1), limiter: limiter(() => new Error('down')), registry, log: silentLogger() }, { maxConcurrent: 2, perWindow: 5 });
    expect(await admit()).toBe(true);
    expect(await registry.metrics()).toMatch(/voice_admission_total\{result="admitted_local_fallback"\} 1/);
  });

  it('perWindow 0 disables the shared limit', async () => {
    const l = limiter(() => false);
    const admit = createAdmission({ calls: registryWith(0), limiter: l, registry: createRegistry({ defaultMetrics: false }), log: silentLogger() }, { maxConcurrent: 5, perWindow: 0 });
    expect(await admit()).toBe(true);
    expect(l.hits).toBe(0);
  });
});
