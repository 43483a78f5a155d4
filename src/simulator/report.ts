// The simulator's report: one shape for the final table and for --json.
import { summarize, type Summary } from './percentiles.js';
import type { SimCall } from './sim-call.js';
import type { SimStats } from './sim-stats.js';

export interface SimReport {
  readonly target: string;
  readonly scenarios: readonly string[];
  readonly audioFormat: string;
  readonly channels: string;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly calls: { readonly requested: number; readonly started: number; readonly succeeded: number; readonly failed: number; readonly maxActive: number };
  readonly failuresByCause: Readonly<Record<string, number>>;
  /** Milliseconds. */
  readonly latency: {
    readonly answer: Summary;
    readonly firstAgentAudio: Summary;
    readonly turn: Summary;
    readonly bargeIn: Summary;
    /** Backchannel pauses: stopAudio → agent audio again. */
    readonly resume: Summary;
  };
  /**
   * stopAudio messages received, by scenario: every one in a scenario where the caller never talks
   * over the agent (qa, echo) is a false barge-in.
   */
  readonly stopAudioByScenario: Readonly<Record<string, number>>;
  readonly outbound: { readonly frameIntervalMs: Summary; readonly jitterMs: Summary };
  readonly frames: { readonly sent: number; readonly dropped: number; readonly received: number; readonly stopAudio: number };
  readonly callbacks: { readonly delivered: number; readonly failed: number; readonly duplicated: number };
  readonly incomingCallDeliveries: number;
  readonly protocolViolations: number;
  /** Call Automation requests refused for a bad HMAC signature during the run (wrong access key?). */
  readonly restUnauthorized: number;
  readonly simulator: { readonly eventLoopDelayMs: { readonly mean: number; readonly p50: number; readonly p99: number; readonly max: number }; readonly lateTicks: number; readonly skippedTicks: number };
}

export interface ReportInput {
  readonly target: string;
  readonly scenarios: readonly string[];
  readonly audioFormat: string;
  readonly channels: string;
  readonly startedAt: number;
  readonly wallMs: number;
  readonly requested: number;
  readonly maxActive: number;
  readonly calls: readonly SimCall[];
  readonly stats: SimStats;
  readonly eventLoop: { mean: number; p50: number; p99: number; max: number };
  readonly lateTicks: number;
  readonly skippedTicks: number;
  readonly restUnauthorized: number;
}

export function buildReport(i: ReportInput): SimReport {
  const failures: Record<string, number> = {};
  let failed = 0;
  for (const c of i.calls) {
    if (c.failure === undefined) continue;
    failed++;
    failures[c.failure] = (failures[c.failure] ?? 0) + 1;
  }
  let delivered = 0;
  let cbFailed = 0;
  let duplicated = 0;
  for (const c of i.calls)
    for (const cb of c.callbacks) {
      if (cb.status >= 200 && cb.status < 300) delivered++;
      else cbFailed++;
      if (cb.duplicated) duplicated++;
    }
  const s = i.stats;
  const stops: Record<string, number> = {};
  for (const c of i.calls) stops[c.scenario] = (stops[c.scenario] ?? 0) + c.stopAudioTimes.length;
  return {
    target: i.target,
    scenarios: i.scenarios,
    audioFormat: i.audioFormat,
    channels: i.channels,
    startedAt: new Date(i.startedAt).toISOString(),
    wallMs: Math.round(i.wallMs),
    calls: { requested: i.requested, started: i.calls.length, succeeded: i.calls.length - failed, failed, maxActive: i.maxActive },
    failuresByCause: failures,
    latency: { answer: summarize(s.answerMs), firstAgentAudio: summarize(s.firstAgentAudioMs), turn: summarize(s.turnMs), bargeIn: summarize(s.bargeInMs), resume: summarize(s.resumeMs) },
    stopAudioByScenario: stops,
    outbound: { frameIntervalMs: s.outboundInterval.summary(), jitterMs: s.outboundJitter.summary() },
    frames: { sent: s.framesSent, dropped: s.framesDropped, received: s.framesReceived, stopAudio: s.stopAudioReceived },
    callbacks: { delivered, failed: cbFailed, duplicated },
    incomingCallDeliveries: i.calls.reduce((n, c) => n + c.incomingCallDeliveries, 0),
    protocolViolations: s.protocolViolations,
    restUnauthorized: i.restUnauthorized,
    simulator: { eventLoopDelayMs: i.eventLoop, lateTicks: i.lateTicks, skippedTicks: i.skippedTicks },
  };
}

const f = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function row(name: string, s: Summary): string {
  return `  ${name.padEnd(30)} ${String(s.count).padStart(7)} ${f(s.p50).padStart(9)} ${f(s.p95).padStart(9)} ${f(s.p99).padStart(9)} ${f(s.max).padStart(9)}`;
}

/** The human-readable final table. */
export function formatReport(r: SimReport): string {
  const causes = Object.entries(r.failuresByCause);
  const el = r.simulator.eventLoopDelayMs;
  return [
    `voice-worker simulate: ${r.calls.started}/${r.calls.requested} calls to ${r.target} (${r.scenarios.join(',')}, ${r.audioFormat}, ${r.channels}) in ${(r.wallMs / 1000).toFixed(1)} s`,
    `  calls: ${r.calls.succeeded} succeeded, ${r.calls.failed} failed, ${r.calls.maxActive} at most at once`,
    '',
    `  ${'ms'.padEnd(30)} ${'count'.padStart(7)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}`,
    row('answer latency', r.latency.answer),
    row('time to first agent audio', r.latency.firstAgentAudio),
    row('turn latency', r.latency.turn),
    row('barge-in latency', r.latency.bargeIn),
    row('backchannel pause to resume', r.latency.resume),
    row('outbound frame interval', r.outbound.frameIntervalMs),
    row('outbound frame jitter', r.outbound.jitterMs),
    '',
    `  frames: ${r.frames.sent} sent, ${r.frames.dropped} dropped (backpressure), ${r.frames.received} received, ${r.frames.stopAudio} stopAudio`,
    `  stopAudio by scenario: ${Object.entries(r.stopAudioByScenario).map(([k, n]) => `${k}=${n}`).join(', ') || 'none'}`,
    `  callbacks: ${r.callbacks.delivered} delivered, ${r.callbacks.failed} failed, ${r.callbacks.duplicated} duplicated on purpose; IncomingCall deliveries: ${r.incomingCallDeliveries}`,
    `  protocol violations seen: ${r.protocolViolations}; REST requests refused with 401: ${r.restUnauthorized}`,
    `  failures: ${causes.length === 0 ? 'none' : causes.map(([c, n]) => `${c}=${n}`).join(', ')}`,
    `  simulator event-loop delay ms: mean ${f(el.mean)}, p50 ${f(el.p50)}, p99 ${f(el.p99)}, max ${f(el.max)}; late ticks ${r.simulator.lateTicks}, skipped ${r.simulator.skippedTicks}`,
    '',
  ].join('\n');
}
