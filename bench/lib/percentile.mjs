// Percentile of a prom-client histogram, interpolated linearly inside the bucket that holds it.
export async function histogramPercentileMs(registry, name, q) {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const buckets = values
    .filter((v) => v.metricName === `${name}_bucket`)
    .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe * 1000;
      const within = b.count === prevCount ? 0 : (rank - prevCount) / (b.count - prevCount);
      return (prevLe + within * (b.le - prevLe)) * 1000;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe * 1000;
}
