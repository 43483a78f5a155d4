// Metrics of the ACS edge: incoming calls, answers, callbacks, authentication, the call state machine.
import type { Counter, Gauge } from 'prom-client';
import { CALL_PHASES } from '../domain/call-state-machine.js';
import type { CallRegistry } from '../domain/live-call.js';
import { counter, gauge, type Registry } from '../metrics.js';

export interface EdgeMetrics {
  readonly callsByPhase: Gauge<'phase'>;
  /** IncomingCall events: accepted, duplicate, stale, overloaded, draining, invalid, ignored. */
  readonly incoming: Counter<'result'>;
  readonly stale: Counter;
  /** answer() outcomes: answered, failed, transient. */
  readonly answers: Counter<'outcome'>;
  /** Callback events by short type (or unknown) and outcome. */
  readonly callbacks: Counter<'type' | 'outcome'>;
  readonly authFailures: Counter<'route' | 'reason'>;
  readonly duplicates: Counter<'source'>;
  readonly illegalTransitions: Counter<'from' | 'to'>;
  readonly timeouts: Counter<'kind'>;
  readonly ended: Counter<'outcome'>;
  readonly finalizerFailures: Counter;
  readonly hangUpFailures: Counter;
  /** MediaStreamingFailed / TranscriptionFailed / PlayFailed / RecognizeFailed and what was decided (wait, fatal, recovered, continue). */
  readonly streamFailures: Counter<'type' | 'decision'>;
}

export function edgeMetrics(registry: Registry, calls: CallRegistry): EdgeMetrics {
  return {
    callsByPhase: gauge(registry, 'voice_calls', 'Live calls on this replica by phase', ['phase'], function () {
      const counts = new Map<string, number>(CALL_PHASES.map((p) => [p, 0]));
      for (const c of calls.values()) counts.set(c.phase, (counts.get(c.phase) ?? 0) + 1);
      for (const [phase, n] of counts) this.set({ phase }, n);
    }),
    incoming: counter(registry, 'voice_incoming_calls_total', 'IncomingCall events by result', ['result']),
    stale: counter(registry, 'voice_incoming_calls_stale_total', 'IncomingCall events too old to answer'),
    answers: counter(registry, 'voice_call_answers_total', 'Answer requests by outcome', ['outcome']),
    callbacks: counter(registry, 'voice_callbacks_total', 'Callback events by type and outcome', ['type', 'outcome']),
    authFailures: counter(registry, 'voice_acs_auth_failures_total', 'Rejected ACS requests by route and reason', ['route', 'reason']),
    duplicates: counter(registry, 'voice_duplicate_events_total', 'Redelivered events that had no second effect', ['source']),
    illegalTransitions: counter(registry, 'voice_call_illegal_transitions_total', 'Ignored illegal call phase transitions', ['from', 'to']),
    timeouts: counter(registry, 'voice_call_timeouts_total', 'Call timers that fired, by kind', ['kind']),
    ended: counter(registry, 'voice_calls_ended_total', 'Finalized calls by outcome', ['outcome']),
    finalizerFailures: counter(registry, 'voice_call_finalizer_failures_total', 'Finalizer hooks that threw'),
    hangUpFailures: counter(registry, 'voice_call_hangup_failures_total', 'Hang-up requests that failed'),
    streamFailures: counter(registry, 'voice_call_stream_failures_total', 'Media/transcription/play/recognize failures by type and decision', ['type', 'decision']),
  };
}
