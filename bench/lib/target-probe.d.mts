export const LATE_GAP_MS: number;
export function resetProbe(): void;
export function readProbe(): { arrivals: number; lateArrivals: number; lateArrivalPct: number; handlerP50Ms: number | null; handlerP99Ms: number | null; handlerCount: number };
