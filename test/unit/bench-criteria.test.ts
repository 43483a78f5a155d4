// The media bench's rules (bench/lib/criteria.mjs) and its in-target probe (bench/lib/target-probe.mjs):
// a saturated or late target cannot pass, a step needs 2 of 3 windows, and a CPU ratio exists only at
// a step both targets passed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { cpuRatio, stepPassed, windowFailures } from '../../bench/lib/criteria.mjs';
import { readProbe, resetProbe } from '../../bench/lib/target-probe.mjs';

const ok = { processCpuMs: [30_000], lateArrivalPct: 0.1, loopP99Ms: 8, jitterP99Ms: 2 };
const driver = { skippedTicks: 0, dropped: 0, closed: 0 };
const opts = { windowMs: 60_000, periods: 3250 };

describe('media bench window criteria', () => {
  it('passes a healthy window', () => {
    expect(windowFailures(ok, driver, opts)).toEqual([]);
  });
  it('fails a window at 90 % of one core or more, in any of the target processes', () => {
    expect(windowFailures({ ...ok, processCpuMs: [54_000] }, driver, opts)).toEqual(['cpu 90% >= 90%']);
    expect(windowFailures({ ...ok, processCpuMs: [20_000, 56_000] }, driver, opts)[0]).toMatch(/^cpu 93\.3%/);
    expect(windowFailures({ ...ok, processCpuMs: [53_900] }, driver, opts)).toEqual([]);
  });
  it('fails on more than 0.5 % late inbound frames, loop p99 over 20 ms, jitter p99 over 5 ms', () => {
    expect(windowFailures({ ...ok, lateArrivalPct: 12.5 }, driver, opts)).toEqual(['late arrivals 12.5% > 0.5%']);
    expect(windowFailures({ ...ok, lateArrivalPct: 0.5 }, driver, opts)).toEqual([]);
    expect(windowFailures({ ...ok, loopP99Ms: 21 }, driver, opts)).toEqual(['loop p99 21 ms > 20']);
    expect(windowFailures({ ...ok, jitterP99Ms: 5.5 }, driver, opts)).toEqual(['jitter p99 5.5 ms > 5']);
  });
  it('applies no jitter criterion to a target that plays no audio (null), rather than reading it as 0', () => {
    expect(windowFailures({ ...ok, jitterP99Ms: null }, driver, opts)).toEqual([]);
  });
  it('does not count a window whose driver fell short or whose sockets closed', () => {
    expect(windowFailures(ok, { ...driver, skippedTicks: 17 }, opts)[0]).toMatch(/^driver short/);
    expect(windowFailures(ok, { ...driver, skippedTicks: 16 }, opts)).toEqual([]);
    expect(windowFailures(ok, { ...driver, dropped: 1 }, opts)[0]).toMatch(/^driver short/);
    expect(windowFailures(ok, { ...driver, closed: 2 }, opts)).toEqual(['2 sockets closed']);
  });
});

describe('media bench steps and ratio', () => {
  it('passes a step on 2 of 3 windows, not on 1', () => {
    expect(stepPassed([{ ok: true }, { ok: false }, { ok: true }], 3)).toBe(true);
    expect(stepPassed([{ ok: true }, { ok: false }, { ok: false }], 3)).toBe(false);
  });
  it('computes the CPU-per-call ratio only at the largest step both passed', () => {
    const s = (target: string, n: number, passed: boolean, median: number, min = median, max = median) => ({ target, n, passed, cpuPctPerCall: { median, min, max, n: 3 } });
    const steps = [s('baseline', 750, true, 0.075), s('worker', 750, true, 0.1, 0.09, 0.11), s('baseline', 1000, true, 0.07), s('worker', 1000, false, 0.1)];
    const r = cpuRatio(steps, [750, 1000], 'worker');
    expect(r.commonStep).toBe(750);
    expect(r.cpuPerCallRatio).toEqual({ median: 0.75, min: 0.68, max: 0.83 });
    expect(cpuRatio([s('baseline', 750, false, 0.07), s('worker', 750, true, 0.1)], [750], 'worker')).toEqual({ commonStep: null, cpuPerCallRatio: null });
  });
});

describe('target probe (the same in both bench targets)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer();
    const wss = new WebSocketServer({ server });
    // Some handler work the probe must resolve: ~1 ms of busy time per message.
    wss.on('connection', (ws) => ws.on('message', () => {
      const end = performance.now() + 1;
      while (performance.now() < end);
    }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('counts inbound gaps over 30 ms per stream and times the handler finer than 0.05 ms buckets', async () => {
    resetProbe();
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((r) => ws.once('open', r));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // 6 messages in 3 back-to-back pairs 100 ms apart: 5 gaps, of which 2 are > 30 ms.
    for (let k = 0; k < 3; k++) {
      if (k > 0) await sleep(100);
      ws.send('x');
      ws.send('x');
    }
    await sleep(50);
    ws.close();
    const p = readProbe();
    expect(p.arrivals).toBe(5);
    expect(p.lateArrivals).toBe(2);
    expect(p.lateArrivalPct).toBeCloseTo(40, 5);
    expect(p.handlerCount).toBe(6);
    expect(p.handlerP50Ms).toBeGreaterThanOrEqual(0.9);
    expect(p.handlerP50Ms).toBeLessThan(50);
  });
});
