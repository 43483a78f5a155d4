// Metrics of the media path. Per-frame counts accumulate in plain numbers and are flushed into the
// Prometheus counters once a second (a labelled inc() per frame would cost more than the frame).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { counter, gauge, histogram, type Registry } from '../metrics.js';

/** monitorEventLoopDelay records whole timer intervals; the delay is what exceeds the resolution. */
const LOOP_RESOLUTION_MS = 10;
const loopDelaySeconds = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) / 1000;

const FINE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25];

export class MediaMetrics {
  framesIn = 0;
  framesOut = 0;
  readonly sockets: Gauge;
  readonly sessions: Gauge;
  readonly inbound: Histogram;
  readonly playoutLateness: Histogram;
  readonly bargeIns: Counter<'cause'>;
  /** Playout paused for a possible barge-in, then resumed (no words) or confirmed. */
  readonly bargeInPauses: Counter<'outcome'>;
  /** Streams / transcripts of participants other than the caller (agent leg), ignored. */
  readonly ignoredParticipant: Counter<'kind'>;
  readonly slowSockets: Counter;
  readonly resyncs: Counter;
  readonly protocolErrors: Counter<'reason' | 'kind'>;
  readonly refused: Counter<'reason'>;
  readonly accepted: Counter;
  readonly closedInvalid: Counter<'code'>;
  /** Transcription events of calls whose audio is on another replica (media-forwarding.ts). */
  readonly remoteEvents: Counter<'kind' | 'result'>;
  readonly #framesIn: Counter;
  readonly #framesOut: Counter;
  readonly #loop: IntervalHistogram;
  #timer: NodeJS.Timeout | null = null;

  constructor(registry: Registry) {
    this.sockets = gauge(registry, 'voice_media_sockets', 'Open media WebSockets');
    this.sessions = gauge(registry, 'voice_media_sessions', 'In-memory media sessions (calls with media state)');
    this.#framesIn = counter(registry, 'voice_media_frames_in_total', 'Inbound AudioData frames handled');
    this.#framesOut = counter(registry, 'voice_media_frames_out_total', 'Outbound audio frames sent');
    this.inbound = histogram(registry, 'voice_media_inbound_seconds', 'Handling time of one inbound message (sampled 1 in 16)', [], FINE_BUCKETS);
    this.playoutLateness = histogram(registry, 'voice_media_playout_lateness_seconds', 'Outbound frame send time minus its due time (sampled 1 in 8)', [], FINE_BUCKETS);
    this.bargeIns = counter(registry, 'voice_media_barge_ins_total', 'Caller interruptions of agent audio', ['cause']);
    this.bargeInPauses = counter(registry, 'voice_media_barge_in_pauses_total', 'Playout pauses on caller energy, by outcome (paused, resumed, confirmed)', ['outcome']);
    this.ignoredParticipant = counter(registry, 'voice_media_ignored_participant_total', 'Audio streams and transcripts of participants other than the caller (e.g. the agent leg), ignored', ['kind']);
    this.slowSockets = counter(registry, 'voice_media_slow_sockets_total', 'Playout paused because the socket send buffer was over its limit');
    this.resyncs = counter(registry, 'voice_media_playout_resyncs_total', 'Playout schedules re-anchored after falling behind');
    this.protocolErrors = counter(registry, 'voice_media_protocol_errors_total', 'Inbound media messages dropped', ['reason', 'kind']);
    this.refused = counter(registry, 'voice_media_upgrades_refused_total', 'Media upgrades refused', ['reason']);
    this.accepted = counter(registry, 'voice_media_upgrades_total', 'Media upgrades accepted');
    this.closedInvalid = counter(registry, 'voice_media_sockets_closed_invalid_total', 'Media sockets closed for sending garbage', ['code']);
    this.remoteEvents = counter(
      registry,
      'voice_media_remote_events_total',
      'Transcription results and tones forwarded between replicas: sent (local, forwarded, held, failed, dropped) or received (delivered, invalid)',
      ['kind', 'result'],
    );
    this.#loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    const loop = this.#loop;
    gauge(registry, 'voice_event_loop_delay_p99_seconds', 'Event-loop delay p99 since the last scrape', [], function () {
      this.set(loop.count > 0 ? loopDelaySeconds(loop.percentile(99)) : 0);
    });
    gauge(registry, 'voice_event_loop_delay_max_seconds', 'Event-loop delay max since the last scrape', [], function () {
      this.set(loop.count > 0 ? loopDelaySeconds(loop.max) : 0);
      loop.reset();
    });
  }

  start(): void {
    if (this.#timer) return;
    this.#loop.enable();
    this.#timer = setInterval(() => this.flush(), 1000);
    this.#timer.unref();
  }

  flush(): void {
    if (this.framesIn > 0) this.#framesIn.inc(this.framesIn);
    if (this.framesOut > 0) this.#framesOut.inc(this.framesOut);
    this.framesIn = 0;
    this.framesOut = 0;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#loop.disable();
    this.flush();
  }
}
