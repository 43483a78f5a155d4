// The events of one live call. Components meet here instead of calling each other: the ACS edge
// emits lifecycle events, the media path emits what it hears, the turn pipeline listens and speaks
// through the call's MediaOutlet. Synchronous, in process, no allocation beyond the payload.
import type { CallOutcome } from './call-records.js';

export interface CallEventMap {
  /** ACS accepted our answer request. */
  answered: { readonly callConnectionId: string };
  /** CallConnected callback. */
  connected: Record<string, never>;
  /** Every authenticated, de-duplicated callback, after the state machine saw it. */
  callback: { readonly type: string; readonly data: Readonly<Record<string, unknown>> };
  /** CallDisconnected callback, or the media socket closed for good. */
  disconnected: { readonly reason: string };
  /** Finalization ran (exactly once). */
  ended: { readonly outcome: CallOutcome };
  /** The call left this replica without ending (another replica owns it now): let go of everything. */
  released: { readonly reason: string };
  /** The media socket is open and AudioMetadata arrived. */
  mediaConnected: { readonly sampleRate: number; readonly channels: 'mixed' | 'unmixed'; readonly reconnect: boolean };
  /** The media socket closed (ACS may reconnect). */
  mediaClosed: { readonly code: number; readonly reason: string };
  /** Voice activity onset / end (after smoothing). */
  speechStart: { readonly at: number; readonly participant: string | null };
  speechEnd: { readonly at: number; readonly participant: string | null };
  /** TranscriptionData. `final` is false for Intermediate results. */
  transcript: {
    readonly text: string;
    readonly final: boolean;
    readonly confidence: number;
    readonly participant: string | null;
    readonly at: number;
  };
  dtmf: { readonly tone: string; readonly at: number };
  /** The call cannot go on (a stream failed for good): say `line` and hang up. */
  unrecoverable: { readonly reason: 'media-failed' | 'transcription-failed'; readonly line: string; readonly detail: string };
  /** Media input from a participant other than the caller, ignored (the agent's own leg, a third party). */
  ignoredParticipant: { readonly kind: 'audio' | 'transcript'; readonly participant: string };
  /** The caller interrupted the agent: stopAudio was sent and the playout queue dropped. */
  bargeIn: { readonly at: number; readonly utteranceId: string | null; readonly playedMs: number; readonly cause: 'vad' | 'transcript' | 'dtmf' };
  /** Caller energy while the agent played: stopAudio was sent, the reply waits for words (barge-in.ts). */
  playoutPaused: { readonly at: number; readonly utteranceId: string; readonly playedMs: number };
  /** No words followed the pause: the reply goes on from where the caller stopped hearing it. */
  playoutResumed: { readonly at: number; readonly utteranceId: string | null; readonly pausedMs: number };
  /** The responder asked for a human (call-transfer.ts); `announced`: the caller already heard it is coming. */
  transferRequested: { readonly announced: boolean };
  /** A step of a transfer to a human; the target masked (null when none is configured). */
  transfer: { readonly event: 'requested' | 'accepted' | 'failed' | 'no-target'; readonly target: string | null };
  /** An utterance finished playing (completely, or cut short by stop()). */
  playoutDone: { readonly utteranceId: string; readonly playedMs: number; readonly totalMs: number; readonly interrupted: boolean };
}

export type CallEventName = keyof CallEventMap;
type Listener<K extends CallEventName> = (event: CallEventMap[K]) => void;

/** A small typed emitter. A throwing listener is reported to onError and never breaks the others. */
export class CallEvents {
  readonly #listeners: { [K in CallEventName]?: Listener<K>[] } = {};

  constructor(private readonly onError: (err: unknown, event: CallEventName) => void) {}

  on<K extends CallEventName>(name: K, fn: Listener<K>): () => void {
    ((this.#listeners[name] ??= []) as Listener<K>[]).push(fn);
    return () => {
      const list = this.#listeners[name] as Listener<K>[] | undefined;
      const i = list ? list.indexOf(fn) : -1;
      if (!list || i < 0) return;
      // Copy on write: an emit in progress keeps iterating the list it started with, so a listener
      // that unsubscribes (itself or others) while handling an event never makes the next one miss it.
      const next = list.slice();
      next.splice(i, 1);
      (this.#listeners as Record<CallEventName, Listener<K>[]>)[name] = next;
    };
  }

  emit<K extends CallEventName>(name: K, event: CallEventMap[K]): void {
    const list = this.#listeners[name] as Listener<K>[] | undefined;
    if (!list) return;
    for (const fn of list) {
      try {
        fn(event);
      } catch (err) {
        this.onError(err, name);
      }
    }
  }

  clear(): void {
    for (const k of Object.keys(this.#listeners)) delete this.#listeners[k as CallEventName];
  }
}

/** How the turn pipeline speaks on a call. Implemented by the media path (outbound audio over the socket). */
export interface MediaOutlet {
  readonly sampleRate: number;
  /** True while an utterance is queued or playing. */
  readonly speaking: boolean;
  /** Queues PCM16 mono at sampleRate for paced playout. Never blocks, never awaits I/O. */
  speak(utteranceId: string, pcm: Int16Array): void;
  /** Marks the end of an utterance: playoutDone fires once everything queued for it has been sent. */
  endUtterance(utteranceId: string): void;
  /** Sends stopAudio and drops the queue. Returns what was playing and how much of it was sent. */
  stop(cause: 'vad' | 'transcript' | 'dtmf' | 'hangup'): { utteranceId: string | null; playedMs: number };
}
