// The same measurement inside both bench targets (the bare ws baseline and the worker), installed by
// wrapping ws's WebSocketServer.prototype.handleUpgrade before any server exists: every accepted socket
// gets one 'message' listener before the target's own and one after it. Per inbound message:
//   - arrival gap: time since the previous message of the same stream, as the target's event loop sees
//     it; a gap > 30 ms (1.5 frame periods) counts as a late arrival. A saturated target shows here
//     even when its sampled handler time looks small.
//   - handler time: the target's own synchronous 'message' work, between the two listeners, recorded in
//     nanoseconds (perf_hooks histogram), so sub-10 µs handling is resolved, not floored to a bucket.
// Both targets pay the same two performance.now() calls per message.
import { createHistogram, performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';

export const LATE_GAP_MS = 30;

const handler = createHistogram();
let arrivals = 0;
let late = 0;
let t0 = 0;

function probe(ws) {
  let last = 0;
  ws.on('message', () => {
    const t = performance.now();
    if (last !== 0) {
      arrivals++;
      if (t - last > LATE_GAP_MS) late++;
    }
    last = t;
    t0 = t;
  });
  return () => ws.on('message', () => handler.record(Math.max(1, Math.round((performance.now() - t0) * 1e6))));
}

const original = WebSocketServer.prototype.handleUpgrade;
WebSocketServer.prototype.handleUpgrade = function handleUpgrade(req, socket, head, cb) {
  return original.call(this, req, socket, head, (ws, ...rest) => {
    const after = probe(ws);
    cb(ws, ...rest);
    // The target attaches its 'message' listener inside cb (the worker may do so a tick later).
    after();
  });
};

export function resetProbe() {
  handler.reset();
  arrivals = 0;
  late = 0;
}

/** Gaps counted, late ones, and handler time percentiles in ms (null when nothing was recorded). */
export function readProbe() {
  const n = handler.count;
  return {
    arrivals,
    lateArrivals: late,
    lateArrivalPct: arrivals > 0 ? (late / arrivals) * 100 : 0,
    handlerP50Ms: n > 0 ? handler.percentile(50) / 1e6 : null,
    handlerP99Ms: n > 0 ? handler.percentile(99) / 1e6 : null,
    handlerCount: n,
  };
}
