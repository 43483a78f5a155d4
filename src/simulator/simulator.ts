// startSimulator(): a local ACS on one port — Call Automation REST (HMAC-verified), JWKS, and the
// driver that places calls at a worker (Event Grid → answer → callbacks → media) and reports.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CallbackSender } from './callbacks.js';
import { CallControl } from './call-control.js';
import { callerVoice } from './caller-audio.js';
import { CallRunner } from './call-runner.js';
import { validateSubscription } from './event-grid.js';
import { FrameClock } from './frame-clock.js';
import type { AudioChannels, AudioFormat } from './frame-math.js';
import { createIdentity, DEFAULT_ACS_ISSUER } from './identity.js';
import { buildReport, type SimReport } from './report.js';
import { createRestServer } from './rest-server.js';
import { createOutboundCall, type OutboundOutcome } from './outbound-calls.js';
import { parseScenarios } from './scenarios.js';
import type { SimCall } from './sim-call.js';
import { SimStats } from './sim-stats.js';

export interface SimulatorLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface SimulatorOptions {
  readonly host?: string;
  readonly port?: number;
  /** base64 access key of the connection string (random when absent). */
  readonly accessKey?: string;
  /** The simulated ACS resource's immutable id (the JWT audience; random uuid when absent). */
  readonly resourceId?: string;
  readonly issuer?: string;
  /** The Event Grid webhook key (random when absent). */
  readonly webhookKey?: string;
  readonly log?: SimulatorLog;
}

export interface Progress {
  readonly started: number;
  readonly active: number;
  readonly finished: number;
  readonly failed: number;
  readonly total: number;
}

export interface RunCallsOptions {
  /** The worker's Event Grid endpoint, e.g. http://127.0.0.1:8080/api/incoming-call. */
  readonly target: string;
  readonly calls: number;
  readonly concurrency: number;
  /** Seconds over which the first `concurrency` calls start (0 = all at once). */
  readonly rampS?: number;
  /** Seconds every call lasts at least (after its scenario the caller stays on the line, silent). */
  readonly durationS?: number;
  readonly scenario: string | string[];
  /** The caller's format when the worker does not choose one in mediaStreamingOptions.audioFormat. */
  readonly audioFormat?: AudioFormat;
  readonly channels?: AudioChannels;
  /** Fraction (0..1) of IncomingCall events and callbacks delivered a second time. */
  readonly duplicateRate?: number;
  /** Keep each call's decoded outbound (agent) audio with arrival times (SimCall.outboundAudio, bounded per call). */
  readonly captureOutbound?: boolean;
  /** Event Grid redelivers 100x faster than its documented 10 s / 30 s / 1 min / 5 min (tests). */
  readonly fastRetry?: boolean;
  /** What ACS does when the worker's end of a stream dies: re-open it (default) or wait for startMediaStreaming. */
  readonly streamReconnect?: 'reconnect' | 'none';
  readonly onProgress?: (p: Progress) => void;
  /** The numbers called (E.164), round robin by call index (default +18005550100): the worker's tenants. */
  readonly calledNumbers?: readonly string[];
}

export interface Simulator {
  readonly url: string;
  readonly acsConnectionString: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly resourceId: string;
  readonly accessKey: string;
  /** The Event Grid subscription's webhook key (sent as ?key= on every delivery; EVENTGRID_WEBHOOK_KEY for the worker). */
  readonly webhookKey: string;
  workerEnv(): Record<string, string>;
  runCalls(opts: RunCallsOptions): Promise<SimReport>;
  /** Every call placed so far, in order (for assertions). */
  readonly calls: readonly SimCall[];
  /** REST requests refused for a bad HMAC signature. */
  readonly unauthorizedRequests: number;
  /** A fresh ACS JWT signed by this simulator's key (what it sends with callbacks and media upgrades). */
  issueToken(): Promise<string>;
  /**
   * Outbound calls (createCall): what each target does, one outcome per attempt in order (then it
   * answers); the scenario an answering callee runs (default one qa turn set); how long no-answer rings.
   */
  outbound(opts: { outcomes?: ReadonlyMap<string, readonly OutboundOutcome[]>; scenario?: string; ringMs?: number }): void;
  /** Outbound calls still running (answered callees on the line). */
  readonly outboundActive: number;
  close(): Promise<void>;
}

const CONTEXT_TTL_MS = 60_000;

/** The target with `key=<webhookKey>` unless it already carries a key. */
export function withWebhookKey(target: string, key: string): string {
  const u = new URL(target);
  if (!u.searchParams.has('key')) u.searchParams.set('key', key);
  return u.toString();
}
const EL_RESOLUTION_MS = 10;

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const accessKey = opts.accessKey ?? randomBytes(32).toString('base64');
  const resourceId = opts.resourceId ?? randomUUID();
  const issuer = opts.issuer ?? DEFAULT_ACS_ISSUER;
  const identity = await createIdentity({ issuer, audience: resourceId });
  const webhookKey = opts.webhookKey ?? randomBytes(24).toString('base64url');
  const control = new CallControl(resourceId);
  const calls: SimCall[] = [];
  let unauthorized = 0;
  let duplicateRate = 0;
  const callbacks = new CallbackSender({ identity, duplicateRate: () => duplicateRate });
  const clock = new FrameClock();
  const outcomes = new Map<string, OutboundOutcome[]>();
  let outboundSteps: string[] = ['qa'];
  let ringMs = 200;
  let outboundActive = 0;
  const outboundStats = new SimStats();
  const runnerDeps = () => ({
    control,
    callbacks,
    clock,
    identity,
    stats: outboundStats,
    resourceId,
    target: '',
    voice: callerVoice,
    channels: 'mixed' as const,
    duplicateRate: 0,
    durationMs: 0,
    contextTtlMs: CONTEXT_TTL_MS,
  });
  control.outbound = (body) => {
    const { result, call } = createOutboundCall(
      {
        callbacks,
        connect: (sess) => control.connect(sess),
        nextIndex: () => calls.length,
        outcomeFor: (target) => outcomes.get(target)?.shift() ?? 'answered',
        ringMs,
        runner: (c) => {
          const r = new CallRunner(runnerDeps(), c.index, outboundSteps, c);
          const run = r.run.bind(r);
          outboundActive++;
          return Object.assign(r, { run: () => run().finally(() => outboundActive--) });
        },
      },
      body,
    );
    if (call) calls.push(call);
    return result;
  };
  const server = createRestServer({
    accessKey,
    jwks: () => identity.jwks,
    handlers: control,
    onUnauthorized: (reason) => {
      unauthorized++;
      opts.log?.warn(`refused a Call Automation request: ${reason}`);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  const acsConnectionString = `endpoint=${url}/;accesskey=${accessKey}`;
  const jwksUrl = `${url}/calling/keys`;
  const runners = new Set<CallRunner>();
  let closed = false;

  async function runCalls(o: RunCallsOptions): Promise<SimReport> {
    if (closed) throw new Error('simulator is closed');
    const mix = parseScenarios(o.scenario);
    // Event Grid delivers to the subscription URL, which carries the webhook key as ?key= (the
    // worker checks it when EVENTGRID_WEBHOOK_KEY is set; without it the parameter is ignored).
    const target = withWebhookKey(o.target, webhookKey);
    const total = Math.max(0, Math.floor(o.calls));
    const concurrency = Math.max(1, Math.floor(o.concurrency));
    const rampMs = Math.max(0, (o.rampS ?? 0) * 1000);
    const stats = new SimStats();
    const format = o.audioFormat ?? 'pcm16KMono';
    duplicateRate = Math.min(1, Math.max(0, o.duplicateRate ?? 0));
    // Synthesize the caller's voice before the first call (and fail early if the engine cannot run).
    await callerVoice(format === 'pcm24KMono' ? 24000 : 16000);
    await validateSubscription(target, resourceId);
    const deps = {
      control,
      callbacks,
      clock,
      identity,
      stats,
      resourceId,
      target,
      voice: callerVoice,
      channels: o.channels ?? 'mixed',
      duplicateRate,
      durationMs: Math.max(0, (o.durationS ?? 0) * 1000),
      contextTtlMs: CONTEXT_TTL_MS,
      captureOutbound: o.captureOutbound === true,
      fastRetry: o.fastRetry === true,
      streamReconnect: o.streamReconnect ?? 'reconnect',
      ...(o.calledNumbers && o.calledNumbers.length > 0 ? { calledNumbers: o.calledNumbers } : {}),
    };
    const el = monitorEventLoopDelay({ resolution: EL_RESOLUTION_MS });
    el.enable();
    const startedAt = Date.now();
    const t0 = performance.now();
    const lateBefore = clock.lateTicks;
    const skippedBefore = clock.skippedTicks;
    const unauthorizedBefore = unauthorized;
    const mine: SimCall[] = [];
    let active = 0;
    let finished = 0;
    let failed = 0;
    let maxActive = 0;
    let slotFree: (() => void) | undefined;
    const progress = () => o.onProgress?.({ started: mine.length, active, finished, failed, total });
    const running: Promise<void>[] = [];
    for (let i = 0; i < total && !closed; i++) {
      while (active >= concurrency) await new Promise<void>((r) => (slotFree = r));
      if (i > 0 && i < concurrency && rampMs > 0) {
        const due = t0 + (rampMs * i) / Math.min(concurrency, total);
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const runner = new CallRunner(deps, calls.length, mix[i % mix.length] as string[]);
      calls.push(runner.call);
      mine.push(runner.call);
      runners.add(runner);
      active++;
      maxActive = Math.max(maxActive, active);
      progress();
      running.push(
        runner.run().finally(() => {
          runners.delete(runner);
          active--;
          finished++;
          if (runner.call.failure !== undefined) failed++;
          progress();
          const f = slotFree;
          slotFree = undefined;
          f?.();
        }),
      );
    }
    await Promise.all(running);
    el.disable();
    // The histogram records whole sampling intervals; the delay is what exceeds the resolution.
    const ms = (v: number) => Math.max(0, v / 1e6 - EL_RESOLUTION_MS);
    const formats = new Set(mine.map((c) => String(c.answer?.mediaStreamingOptions?.audioFormat ?? format)));
    return buildReport({
      target: o.target,
      scenarios: mix.map((m) => m.join('+')),
      audioFormat: [...formats].join(',') || format,
      channels: deps.channels,
      startedAt,
      wallMs: performance.now() - t0,
      requested: total,
      maxActive,
      calls: mine,
      stats,
      eventLoop: { mean: ms(el.mean), p50: ms(el.percentile(50)), p99: ms(el.percentile(99)), max: ms(el.max) },
      lateTicks: clock.lateTicks - lateBefore,
      skippedTicks: clock.skippedTicks - skippedBefore,
      restUnauthorized: unauthorized - unauthorizedBefore,
    });
  }

  return {
    url,
    acsConnectionString,
    jwksUrl,
    issuer,
    resourceId,
    accessKey,
    calls,
    get unauthorizedRequests() {
      return unauthorized;
    },
    issueToken: () => identity.issue(),
    outbound(o) {
      for (const [k, v] of o.outcomes ?? []) outcomes.set(k, [...v]);
      if (o.scenario) outboundSteps = o.scenario.split('+');
      if (o.ringMs !== undefined) ringMs = o.ringMs;
    },
    get outboundActive() {
      return outboundActive;
    },
    webhookKey,
    // The simulated ACS resource has Azure AI services attached: the worker names an endpoint in
    // callIntelligenceOptions (any URL; the simulator transcribes itself) and so gets transcription.
    workerEnv: () => ({
      ACS_CONNECTION_STRING: acsConnectionString,
      ACS_JWKS_URL: jwksUrl,
      ACS_JWT_ISSUER: issuer,
      ACS_RESOURCE_ID: resourceId,
      ACS_COGNITIVE_SERVICES_ENDPOINT: `${url}/cognitive-services/`,
      EVENTGRID_WEBHOOK_KEY: webhookKey,
    }),
    runCalls,
    async close() {
      if (closed) return;
      closed = true;
      clock.stop();
      await callbacks.closeAll();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
