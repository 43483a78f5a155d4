// OpenTelemetry tracing for the worker: off by default (no provider, no cost); OTEL_TRACES_EXPORTER=otlp
// exports over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (an OpenTelemetry Collector, or Azure
// Monitor's OTLP ingestion, which lands spans in Application Insights). The Azure Monitor exporter
// package (@azure/monitor-opentelemetry-exporter 1.0.0-beta.47) declares Node >= 22 and this image
// runs Node 20, so Application Insights is reached through OTLP.
// Spans are batched in memory and exported off the call path; none is created per audio frame.
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../../logger.js';

export interface TracingConfig {
  readonly exporter: 'none' | 'otlp';
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  readonly otlpEndpoint: string | undefined;
  readonly serviceName: string;
  readonly workerId: string;
}

export interface Tracing {
  /** Null when tracing is off: callers skip span work entirely. */
  readonly tracer: Tracer | null;
  /** Flushes spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

export const TRACING_OFF: Tracing = { tracer: null, shutdown: async () => undefined };

/**
 * The tracer provider for one worker (not registered globally, so several workers in one process
 * keep their spans apart). `exporter` replaces the configured one (tests: InMemorySpanExporter,
 * exported synchronously).
 */
export function createTracing(cfg: TracingConfig, log: Logger, exporter?: SpanExporter): Tracing {
  if (!exporter && cfg.exporter === 'none') return TRACING_OFF;
  const processor = exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter(cfg.otlpEndpoint ? { url: cfg.otlpEndpoint } : {}), { maxQueueSize: 4096, maxExportBatchSize: 512 });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': cfg.serviceName, 'service.instance.id': cfg.workerId }),
    spanProcessors: [processor],
  });
  log.info({ exporter: exporter ? 'custom' : cfg.exporter, endpoint: cfg.otlpEndpoint }, 'tracing on');
  return {
    tracer: provider.getTracer('voice-worker'),
    shutdown: () => provider.shutdown().catch((err: unknown) => log.warn({ err }, 'tracing shutdown failed')),
  };
}

/** The no-op tracer of the API (for code that wants a Tracer either way). */
export const noopTracer: Tracer = trace.getTracer('voice-worker-noop');
