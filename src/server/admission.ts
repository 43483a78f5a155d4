// Admission of a new call: this replica's own ceiling (MAX_CONCURRENT_CALLS) and, with Redis, a
// rate limit shared by every replica (INCOMING_CALLS_PER_WINDOW per TTL_RATE seconds). When Redis
// cannot answer, admission falls back to the local ceiling alone: a Redis outage never refuses calls
// that this replica can carry.
import type { CallRegistry } from '../domain/live-call.js';
import type { Logger } from '../logger.js';
import { counter, type Registry } from '../metrics.js';

export interface SharedRateLimiter {
  hit(name: string, limit: number): Promise<{ readonly admitted: boolean }>;
}

export interface AdmissionConfig {
  readonly maxConcurrent: number;
  /** Calls admitted across all replicas per rate window; 0 disables the shared limit. */
  readonly perWindow: number;
}

export function createAdmission(
  deps: { calls: CallRegistry; limiter: SharedRateLimiter | null; registry: Registry; log: Logger },
  cfg: AdmissionConfig,
): () => Promise<boolean> {
  const decisions = counter(deps.registry, 'voice_admission_total', 'Admission decisions for new calls', ['result']);
  return async () => {
    if (deps.calls.size >= cfg.maxConcurrent) {
      decisions.inc({ result: 'refused_local' });
      return false;
    }
    if (!deps.limiter || cfg.perWindow === 0) {
      decisions.inc({ result: 'admitted' });
      return true;
    }
    try {
      const { admitted } = await deps.limiter.hit('incoming-calls', cfg.perWindow);
      decisions.inc({ result: admitted ? 'admitted' : 'refused_rate' });
      return admitted;
    } catch (err) {
      deps.log.warn({ err }, 'shared admission unavailable; admitting on the local limit');
      decisions.inc({ result: 'admitted_local_fallback' });
      return true;
    }
  };
}
