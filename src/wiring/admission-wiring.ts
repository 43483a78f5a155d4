// Wires cluster-wide call admission (issue 18): RedisCallSlots when the state is in Redis (null with
// in-process state: the caps then hold on this replica alone), the tenant table, the worker
// registry's replica count for the fallback share, and the release of a call's slot when it leaves
// this replica (finalized, abandoned or handed over).
import type { Config } from '../config.js';
import { RedisCallSlots } from '../adapters/redis/redis-call-slots.js';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { CallRegistry } from '../domain/live-call.js';
import type { Clock } from '../domain/ports.js';
import { tenantResolver } from '../domain/tenants.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../metrics.js';
import { CallAdmission } from '../server/call-admission.js';
import type { Lifecycle } from '../server/lifecycle.js';
import type { RedisState } from './redis-wiring.js';

export function wireAdmission(deps: {
  config: Config;
  registry: Registry;
  log: Logger;
  clock: Clock;
  calls: CallRegistry;
  lifecycle: Lifecycle;
  redis: { client: RedisClient; state: RedisState } | null;
}): CallAdmission {
  const { config } = deps;
  const leaseMs = config.ttl.lease * 1000;
  const slots = deps.redis ? new RedisCallSlots({ client: deps.redis.client, scripts: deps.redis.state.scripts, keys: deps.redis.state.keys }, { leaseMs }) : null;
  const workers = deps.redis?.state.workers;
  const admission = new CallAdmission(
    {
      slots,
      tenants: tenantResolver(config.admission.tenants),
      liveReplicas: () => workers?.liveReplicas ?? 1,
      registry: deps.registry,
      now: () => deps.clock.now(),
      log: deps.log.child({ component: 'admission' }),
    },
    {
      workerId: config.workerId,
      globalMaxConcurrent: config.admission.globalMaxConcurrent,
      maxCallsPerWindow: config.admission.maxCallsPerWindow,
      rateWindowMs: config.admission.rateWindowMs,
      leaseMs,
    },
  );
  // A call that leaves this replica frees its slot once (a handed-over call's slot is freed here too:
  // the new owner does not know its tenant; the cap undercounts it for the rest of that call).
  deps.calls.onRemove((call) => void admission.releaseCall(call.callId));
  admission.start();
  deps.lifecycle.onClose('admission', () => admission.stop());
  return admission;
}
