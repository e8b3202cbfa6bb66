import type { FastifyOtelInstrumentation } from '@fastify/otel';
import type * as OtelApi from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The tracing of this process once started: the API, its tracer and the fastify instrumentation. */
export interface Tracing {
  api: typeof OtelApi;
  tracer: OtelApi.Tracer;
  provider: NodeTracerProvider;
  instrumentation: FastifyOtelInstrumentation;
}

let started: Promise<Tracing> | undefined;
let tracing: Tracing | undefined;

/** The process's tracing, or undefined when OTEL_EXPORTER_OTLP_ENDPOINT is not set (then nothing makes spans). */
export const activeTracing = (): Tracing | undefined => tracing;

/**
 * Starts exporting spans by OTLP over HTTP to `endpoint` (its `/v1/traces`, as the OpenTelemetry spec says of
 * OTEL_EXPORTER_OTLP_ENDPOINT). The SDK is loaded here, only then: a process without an endpoint never
 * imports it. Registers W3C trace context, so an incoming `traceparent` is continued. Once per process.
 */
export function startTracing(endpoint: string, serviceName: string): Promise<Tracing> {
  started ??= (async () => {
    const [
      api,
      { NodeTracerProvider, BatchSpanProcessor },
      { OTLPTraceExporter },
      { resourceFromAttributes },
    ] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME || serviceName }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    provider.register();
    const instrumentation = new FastifyOtelInstrumentation({
      // One span per request and one for its handler; a span per hook would cost more than it tells.
      instrumentHooks: false,
      // @fastify/otel records the URL with its query string, which may hold a secret: keep only the path.
      requestHook: (span, request) => span.setAttribute('url.path', request.url.split('?', 1)[0]!),
    });
    instrumentation.setTracerProvider(provider);
    tracing = { api, tracer: provider.getTracer('groundwork-pg'), provider, instrumentation };
    return tracing;
  })();
  return started;
}
