// Counters and latency samples shared by every call of one runCalls() (plain fields, no allocation
// per frame: frame intervals go into a fixed-bucket histogram).
import { Histogram } from './percentiles.js';

export class SimStats {
  framesSent = 0;
  framesDropped = 0;
  framesReceived = 0;
  stopAudioReceived = 0;
  protocolViolations = 0;
  callbacksDelivered = 0;
  callbacksFailed = 0;
  callbacksDuplicated = 0;
  incomingCallDeliveries = 0;
  readonly answerMs: number[] = [];
  readonly firstAgentAudioMs: number[] = [];
  readonly turnMs: number[] = [];
  readonly bargeInMs: number[] = [];
  /** Backchannel pauses: stopAudio → the agent's audio again. */
  readonly resumeMs: number[] = [];
  /** Arrival interval between consecutive outbound frames (0.05 ms buckets up to 1 s). */
  readonly outboundInterval = new Histogram(0.05, 1000);
  /** |interval − 20 ms|. */
  readonly outboundJitter = new Histogram(0.05, 1000);

  recordOutboundInterval(ms: number): void {
    this.outboundInterval.record(ms);
    this.outboundJitter.record(ms > 20 ? ms - 20 : 20 - ms);
  }
}
