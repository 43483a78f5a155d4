// Today's summary for the console, from one UTC day's counters (`calls`, `durationMs`,
// `outcome:<o>`, `hour:<h>`), written once per ended call by its owner.
import type { CallOutcome } from '../call-records.js';

/** Outcomes that count as a call that went as it should (the caller or the agent ended it). */
const SUCCESS: ReadonlySet<string> = new Set<CallOutcome>(['completed', 'caller-hangup', 'agent-hangup', 'transferred']);

export interface DaySummary {
  readonly day: string;
  readonly calls: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly avgDurationMs: number;
  /** Share of ended calls with a successful outcome, 0..1 (0 with no calls). */
  readonly successRate: number;
  /** Calls ended per UTC hour, 24 entries. */
  readonly perHour: readonly number[];
}

export function utcDay(ms: number): { day: string; hour: number } {
  const d = new Date(ms);
  return { day: d.toISOString().slice(0, 10), hour: d.getUTCHours() };
}

export function daySummary(day: string, counters: Readonly<Record<string, number>>): DaySummary {
  const calls = counters['calls'] ?? 0;
  const byOutcome: Record<string, number> = {};
  const perHour = new Array<number>(24).fill(0);
  let ok = 0;
  for (const [k, v] of Object.entries(counters)) {
    if (k.startsWith('outcome:')) {
      const o = k.slice('outcome:'.length);
      byOutcome[o] = v;
      if (SUCCESS.has(o)) ok += v;
    } else if (k.startsWith('hour:')) {
      const h = Number(k.slice('hour:'.length));
      if (Number.isInteger(h) && h >= 0 && h < 24) perHour[h] = v;
    }
  }
  return {
    day,
    calls,
    byOutcome,
    avgDurationMs: calls > 0 ? Math.round((counters['durationMs'] ?? 0) / calls) : 0,
    successRate: calls > 0 ? ok / calls : 0,
    perHour,
  };
}
