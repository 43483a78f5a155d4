// What a simulated call (call-runner.ts) needs from the simulator: its REST and callback ends, the
// frame clock, the caller's voice, and the knobs of the run.
import type { CallbackSender } from './callbacks.js';
import type { CallControl } from './call-control.js';
import type { CallerVoice } from './caller-audio.js';
import type { FrameClock } from './frame-clock.js';
import type { AudioChannels } from './frame-math.js';
import type { SimIdentity } from './identity.js';
import type { SimStats } from './sim-stats.js';

export interface RunnerDeps {
  readonly control: CallControl;
  readonly callbacks: CallbackSender;
  readonly clock: FrameClock;
  readonly identity: SimIdentity;
  readonly stats: SimStats;
  readonly resourceId: string;
  readonly target: string;
  readonly voice: (sampleRate: number) => Promise<CallerVoice>;
  readonly channels: AudioChannels;
  readonly duplicateRate: number;
  readonly durationMs: number;
  readonly contextTtlMs: number;
  /** Keep the decoded outbound audio of every call (SimCall.outboundAudio, bounded). */
  readonly captureOutbound?: boolean;
  /** Event Grid retries 100x faster than documented (tests). */
  readonly fastRetry?: boolean;
  /**
   * What ACS does when the worker's end of a stream goes away without a close frame (its process
   * died): 'reconnect' re-opens it to the same transportUrl (streamConnectionReestablished), 'none'
   * reports the failure and waits for startMediaStreaming / startTranscription. The docs leave it open
   * (the SDK's status details name both streamConnectionInterrupted and streamConnectionReestablished).
   */
  readonly streamReconnect?: 'reconnect' | 'none';
  /** Numbers called, round robin by call index (default +18005550100). */
  readonly calledNumbers?: readonly string[];
}
