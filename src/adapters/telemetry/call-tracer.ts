// The spans of one call: `call` (IncomingCall → archived) with children `answer` (answerCall until
// ACS answered), one `turn` per caller turn (children `responder` and `tts`, event `first_audio`),
// and `archive` (the job handed to the queue). Every span carries voice.call_id, correlationId and,
// once answered, callConnectionId. Turns are built from the turn pipeline's own timings
// (TurnMetrics) when the next turn starts or the call ends, so the pipeline needs no tracing code
// and nothing happens per audio frame.
import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { LiveCall } from '../../domain/live-call.js';
import type { TurnMetrics } from '../../domain/turn/turn-ports.js';

interface Timed {
  readonly name: 'responder' | 'tts';
  readonly start: number;
  readonly end: number;
}

interface PendingTurn {
  start: number;
  end: number;
  firstAudioAt: number | null;
  readonly children: Timed[];
  fallback: string | null;
}

export class CallTrace {
  readonly root: Span;
  #answer: Span | null;
  #turn: PendingTurn | null = null;
  #turns = 0;
  #ended = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly call: LiveCall,
  ) {
    this.root = tracer.startSpan('call', { attributes: this.attributes() });
    this.#answer = tracer.startSpan('answer', { attributes: this.attributes() }, trace.setSpan(ROOT_CONTEXT, this.root));
  }

  attributes(): Attributes {
    const a: Attributes = { 'voice.call_id': this.call.callId };
    if (this.call.correlationId) a.correlationId = this.call.correlationId;
    if (this.call.callConnectionId) a.callConnectionId = this.call.callConnectionId;
    return a;
  }

  answered(): void {
    this.root.setAttributes(this.attributes());
    this.#answer?.setAttributes(this.attributes());
    this.#answer?.end();
    this.#answer = null;
  }

  /** Wraps the shared turn metrics so this call's timings also become spans. */
  metrics(inner: TurnMetrics): TurnMetrics {
    return {
      ...inner,
      responderLatency: (ms) => {
        inner.responderLatency(ms);
        const now = Date.now();
        // A responder run after this turn's first audio starts the next turn.
        if (this.#turn?.firstAudioAt != null) this.#flushTurn();
        this.#child('responder', now - ms, now);
      },
      ttsLatency: (ms) => {
        inner.ttsLatency(ms);
        const now = Date.now();
        this.#child('tts', now - ms, now);
      },
      turnLatency: (ms) => {
        inner.turnLatency(ms);
        const now = Date.now();
        const t = this.#open(now - ms);
        t.start = Math.min(t.start, now - ms);
        t.end = Math.max(t.end, now);
        t.firstAudioAt ??= now;
      },
      fallback: (reason) => {
        inner.fallback(reason);
        this.#open(Date.now()).fallback = reason;
      },
    };
  }

  /** Runs the archive step inside an `archive` span; ends the call span after it. */
  async archive(step: () => Promise<void>, outcome: string): Promise<void> {
    this.#flushTurn();
    const span = this.tracer.startSpan('archive', { attributes: { ...this.attributes(), 'voice.outcome': outcome } }, trace.setSpan(ROOT_CONTEXT, this.root));
    try {
      await step();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'archive step failed' });
      throw err;
    } finally {
      span.end();
      this.end(outcome);
    }
  }

  end(outcome?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#flushTurn();
    if (this.#answer) {
      this.#answer.setStatus({ code: SpanStatusCode.ERROR, message: 'not answered' });
      this.#answer.end();
      this.#answer = null;
    }
    this.root.setAttributes({ ...this.attributes(), 'voice.turns': this.#turns, ...(outcome ? { 'voice.outcome': outcome } : {}) });
    this.root.end();
  }

  #open(at: number): PendingTurn {
    this.#turn ??= { start: at, end: at, firstAudioAt: null, children: [], fallback: null };
    return this.#turn;
  }

  #child(name: Timed['name'], start: number, end: number): void {
    if (this.#ended) return;
    const t = this.#open(start);
    t.start = Math.min(t.start, start);
    t.end = Math.max(t.end, end);
    t.children.push({ name, start, end });
  }

  #flushTurn(): void {
    const t = this.#turn;
    if (!t) return;
    this.#turn = null;
    this.#turns++;
    const attrs = { ...this.attributes(), 'voice.turn': this.#turns, ...(t.fallback ? { 'voice.fallback': t.fallback } : {}) };
    const span = this.tracer.startSpan('turn', { startTime: t.start, attributes: attrs }, trace.setSpan(ROOT_CONTEXT, this.root));
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    for (const c of t.children) this.tracer.startSpan(c.name, { startTime: c.start, attributes: this.attributes() }, ctx).end(c.end);
    if (t.firstAudioAt != null) span.addEvent('first_audio', t.firstAudioAt);
    span.end(t.end);
  }
}

/** One CallTrace per live call, kept beside the call (no field on the domain object). */
export class CallTracer {
  readonly #traces = new WeakMap<LiveCall, CallTrace>();
  constructor(private readonly tracer: Tracer) {}

  /** Starts a call's trace (IncomingCall). */
  start(call: LiveCall): CallTrace {
    const existing = this.#traces.get(call);
    if (existing) return existing;
    const t = new CallTrace(this.tracer, call);
    this.#traces.set(call, t);
    call.events.on('answered', () => t.answered());
    return t;
  }

  of(call: LiveCall): CallTrace | undefined {
    return this.#traces.get(call);
  }

  /** Turn metrics for a call's pipeline: `shared` plus the call's spans once its trace exists. */
  metricsFor(call: LiveCall, shared: TurnMetrics): TurnMetrics {
    let traced: TurnMetrics | null = null;
    const m = (): TurnMetrics => {
      if (traced) return traced;
      const t = this.#traces.get(call);
      if (!t) return shared;
      return (traced = t.metrics(shared));
    };
    return {
      ...shared,
      responderLatency: (ms) => m().responderLatency(ms),
      ttsLatency: (ms) => m().ttsLatency(ms),
      turnLatency: (ms) => m().turnLatency(ms),
      fallback: (reason) => m().fallback(reason),
    };
  }
}
