export interface Spread { median: number; min: number; max: number; n: number }
export const LIMITS: Readonly<{ cpuPctOfOneCore: number; lateGapMs: number; lateArrivalPct: number; loopP99Ms: number; jitterP99Ms: number; driverSkippedPct: number }>;
export interface WindowReport { processCpuMs: number[]; lateArrivalPct: number; loopP99Ms: number; jitterP99Ms: number | null }
export interface DriverStats { skippedTicks?: number; dropped?: number; closed: number }
export function windowFailures(w: WindowReport, stats: DriverStats, opts: { windowMs: number; periods: number; limits?: typeof LIMITS }): string[];
export function stepPassed(rows: { ok: boolean }[], windows: number): boolean;
export function cpuRatio(
  steps: { target: string; n: number; passed: boolean; cpuPctPerCall: Spread }[],
  ladder: number[],
  worker: string,
): { commonStep: number | null; cpuPerCallRatio: { median: number; min: number; max: number } | null };
export function spread(xs: (number | null)[]): Spread | null;
