// Wires hot → cold for the console's day counters (issue 18 item 6): the compactor that copies them
// from Redis to Cosmos (analytics container) every HOT_COMPACTION_INTERVAL_MS, and the read-through
// (Redis, then the Cosmos copy re-cached with TTL_CONSOLE_DAY) the console summary uses. Metrics:
// copies by result, failures, seconds since the last complete pass (compaction lag), reads by tier.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { counter, gauge, type Registry } from '../metrics.js';
import type { Lifecycle } from '../server/lifecycle.js';
import type { Clock } from '../domain/ports.js';
import type { ConsoleStore } from '../domain/console/console-store.js';
import { HotCounterCompactor, readHotCold, utcDays, type ColdCounters, type HotCounterSource } from '../domain/analytics/hot-counters.js';

export interface HotCounters {
  readDay(day: string): Promise<Record<string, number>>;
  readonly compactor: HotCounterCompactor;
}

export function wireHotCounters(deps: { config: Config; log: Logger; registry: Registry; lifecycle: Lifecycle; clock: Clock; store: ConsoleStore; cold: ColdCounters }): HotCounters {
  const { config, registry, clock, store, cold } = deps;
  const log = deps.log.child({ component: 'hot-counters' });
  const source: HotCounterSource = {
    counter: 'consoleDay',
    names: utcDays,
    read: (day) => store.readDay(day),
    restore: (day, fields) => store.restoreDay(day, fields, config.ttl.consoleDay),
  };
  const results = counter(registry, 'voice_hot_compactions_total', 'Hot counters copied to Cosmos by result (failed: the copy will be retried next pass)', ['result']);
  const reads = counter(registry, 'voice_hot_counter_reads_total', 'Hot counter reads by the tier that answered', ['source']);
  const recacheFailed = counter(registry, 'voice_hot_counter_recache_failures_total', 'Cold counter copies not put back in Redis');
  let lastPass = clock.now();
  gauge(registry, 'voice_hot_compaction_lag_seconds', 'Seconds since the last complete compaction pass (alert when near TTL_CONSOLE_DAY)', [], function () {
    this.set(Math.max(0, clock.now() - lastPass) / 1000);
  });
  const compactor = new HotCounterCompactor(
    {
      source,
      cold,
      now: () => clock.now(),
      hooks: {
        onResult: (r) => results.inc({ result: r }),
        onPass: (at) => (lastPass = at),
        onError: (err, name) => log.warn({ err, name }, 'hot counter not copied to Cosmos; retried next pass'),
      },
    },
    { intervalMs: config.archive.hotCompactionIntervalMs },
  );
  compactor.start();
  // A last pass at shutdown, within the flush budget (a Cosmos outage must not hold the exit).
  deps.lifecycle.onFlush('hot-counters', async (budgetMs) => {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([compactor.stop().then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), budgetMs)))]);
    clearTimeout(timer);
    return done ? {} : { hotCountersNotCopied: true };
  });
  return {
    compactor,
    async readDay(day) {
      const r = await readHotCold({ source, cold, onRead: (s) => reads.inc({ source: s }), onRecacheError: () => recacheFailed.inc() }, day);
      return r.fields;
    },
  };
}
