import { operationOf, poolWaitTimeouts, queryDuration } from './metrics.ts';
import { activeTracing } from './tracing.ts';

/** Runs `run` once the statement holds its place in the pool: what `through` calls when the gate admits it. */
export type Admitted = <R>(run: () => PromiseLike<R>) => PromiseLike<R>;

/**
 * Observes one statement's way through a pool: `through` queues it at the pool's gate and calls `admitted`
 * when it gets its connection.
 */
export type ObserveQuery = <T>(query: string, through: (admitted: Admitted) => Promise<T>) => Promise<T>;

/** Longest statement text a span carries. */
const SPAN_STATEMENT_CHARS = 4096;

/**
 * What a pool's statements report: their duration by kind (when `metrics`), a span each with the statement
 * text (placeholders, never the parameters' values) and rows, and a pool-wait span when one waited (when
 * tracing runs). Undefined when neither is on when the pool opens (runtime.ts starts tracing before it opens
 * the database), so the pool runs statements with nothing in between.
 */
export function observeQueries(app: string, pool: string, metrics: boolean): ObserveQuery | undefined {
  if (!metrics && !activeTracing()) return undefined;
  return async (query, through) => {
    // Read per statement: tracing may start after the pool opened (a server built on an open database).
    const tracing = activeTracing();
    const operation = operationOf(query);
    const queuedAt = performance.now();
    const span = tracing?.tracer.startSpan(operation, {
      kind: tracing.api.SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'postgresql',
        'db.operation.name': operation,
        'db.query.text': query.slice(0, SPAN_STATEMENT_CHARS),
        'groundwork.pool': pool,
      },
    });
    let admittedAt: number | undefined;
    // The gate runs an admitted statement at once, within this call; one that waited runs in a later turn.
    let queuing = true;
    const pending = through((run) => {
      admittedAt = performance.now();
      if (span && !queuing) waitSpan(span, queuedAt, admittedAt);
      return run();
    });
    queuing = false;
    try {
      const result = await pending;
      if (span && Array.isArray(result)) span.setAttribute('db.response.returned_rows', result.length);
      return result;
    } catch (error) {
      if (admittedAt === undefined && metrics) poolWaitTimeouts.inc({ app, pool });
      if (span) {
        span.recordException(error as Error);
        span.setStatus({ code: tracing!.api.SpanStatusCode.ERROR, message: (error as Error).message });
      }
      throw error;
    } finally {
      span?.end();
      if (metrics && admittedAt !== undefined) {
        queryDuration.observe({ app, pool, operation }, (performance.now() - admittedAt) / 1000);
      }
    }
  };
}

/** A child span of the statement's for the time it waited for a connection. */
function waitSpan(parent: import('@opentelemetry/api').Span, queuedAt: number, admittedAt: number): void {
  const tracing = activeTracing()!;
  const { api } = tracing;
  const origin = performance.timeOrigin;
  const span = tracing.tracer.startSpan(
    'pool wait',
    { startTime: origin + queuedAt },
    api.trace.setSpan(api.context.active(), parent),
  );
  span.end(origin + admittedAt);
}
