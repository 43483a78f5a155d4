// Reads a worker's Prometheus counters in tests: the sum of a metric's series matching some labels.
import type { Worker } from '../../src/wiring/create-worker.js';

export async function counterTotal(worker: Worker, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = worker.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((n, v) => n + v.value, 0);
}
