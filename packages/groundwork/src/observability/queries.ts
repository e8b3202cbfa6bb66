import type { Span } from '@opentelemetry/api';
import { operationOf, poolWaitTimeouts, queryDuration } from './metrics.ts';
import { activeTracing, type Tracing } from './tracing.ts';

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
  const durations = new Map<string, ReturnType<typeof queryDuration.series>>();
  const durationOf = (operation: string) => {
    let series = durations.get(operation);
    if (!series) {
      series = queryDuration.series({ app, pool, operation });
      durations.set(operation, series);
    }
    return series;
  };
  /** Metrics alone: one `then`, no span; a statement failing before its admission was refused by the gate. */
  const measured: ObserveQuery = (query, through) => {
    let admittedAt = -1;
    const took = () => durationOf(operationOf(query)).observe((performance.now() - admittedAt) / 1000);
    return through((run) => {
      admittedAt = performance.now();
      return run();
    }).then(
      (result) => {
        took();
        return result;
      },
      (error: unknown) => {
        if (admittedAt < 0) poolWaitTimeouts.series({ app, pool }).value++;
        else took();
        throw error;
      },
    );
  };
  return (query, through) => {
    // Read per statement: tracing may start after the pool opened (a server built on an open database).
    const tracing = activeTracing();
    if (!tracing) return measured(query, through);
    return traced(tracing, pool, query, (admitted) =>
      metrics ? measured(query, (run) => through((task) => run(() => admitted(task)))) : through(admitted),
    );
  };
}

/**
 * A statement's span (kind, text with placeholders, rows; the error when it fails) around `through`, and a
 * `pool wait` span under it when the gate made it wait.
 */
async function traced<T>(
  tracing: Tracing,
  pool: string,
  query: string,
  through: (admitted: Admitted) => Promise<T>,
): Promise<T> {
  const operation = operationOf(query);
  const queuedAt = performance.now();
  const span = tracing.tracer.startSpan(operation, {
    kind: tracing.api.SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'postgresql',
      'db.operation.name': operation,
      'db.query.text': query.slice(0, SPAN_STATEMENT_CHARS),
      'groundwork.pool': pool,
    },
  });
  // The gate runs an admitted statement at once, within this call; one that waited runs in a later turn.
  let queuing = true;
  const pending = through((run) => {
    if (!queuing) waitSpan(tracing, span, queuedAt, performance.now());
    return run();
  });
  queuing = false;
  try {
    const result = await pending;
    if (Array.isArray(result)) span.setAttribute('db.response.returned_rows', result.length);
    return result;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: tracing.api.SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** A child span of the statement's for the time it waited for a connection. */
function waitSpan(tracing: Tracing, parent: Span, queuedAt: number, admittedAt: number): void {
  const { api } = tracing;
  const origin = performance.timeOrigin;
  const span = tracing.tracer.startSpan(
    'pool wait',
    { startTime: origin + queuedAt },
    api.trace.setSpan(api.context.active(), parent),
  );
  span.end(origin + admittedAt);
}
