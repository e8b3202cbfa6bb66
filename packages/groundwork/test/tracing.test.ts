import { createServer, type Server } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { activeTracing } from '../src/observability/tracing.ts';
import { startApp } from '../src/runtime.ts';
import { buildServer } from '../src/server.ts';
import { createTestDatabase } from '../src/testing/index.ts';
import { until } from './support/load.ts';
import notes from './support/notes/src/app.ts';

const OPERATOR_KEY = 'tracing-test-operator-key-0123456789abcdef';
const asOperator = { authorization: `Bearer ${OPERATOR_KEY}` };

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}

/** A loopback OTLP/HTTP receiver: keeps every span posted to /v1/traces (the JSON encoding). */
async function otlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const payload = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const resource of payload.resourceSpans) {
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, spans, server };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// One receiver for the file: a process exports to the endpoint its tracing started with.
const receiver = await otlpReceiver();
afterAll(() => receiver.server.close());

describe('OpenTelemetry traces by OTLP', { timeout: 60_000 }, () => {
  it('continue an incoming traceparent: a request span, a span per statement without its values, the trace id in the log', async () => {
    const env = {
      NODE_ENV: 'production',
      ADMIN_API_KEYS: OPERATOR_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    };
    const database = await createTestDatabase(notes, { env });
    cleanups.push(() => database.dispose());
    const running = await startApp(notes, {
      settings: database.settings,
      handle: database.handle,
      migrate: false,
    });
    const lines: string[] = [];
    const server = await buildServer([running], {
      logLevel: 'info',
      mount: 'root',
      logStream: { write: (line) => lines.push(line) },
    });
    let closed = false;
    cleanups.push(() => closed || server.close());

    const created = await server.inject({
      method: 'POST',
      url: '/authors',
      headers: asOperator,
      payload: { email: 'ada@example.com' },
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: string };
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const read = await server.inject({
      url: `/authors/${id}?token=secret-value`,
      headers: { ...asOperator, traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(read.statusCode).toBe(200);
    // Closing flushes the spans still buffered.
    await server.close();
    closed = true;

    await until(() => receiver.spans.some((span) => span.traceId === traceId && span.name === 'request'));
    const trace = receiver.spans.filter((span) => span.traceId === traceId);
    const request = trace.find((span) => span.name === 'request')!;
    expect(request.parentSpanId).toBe(callerSpanId);
    expect(attribute(request, 'http.route')).toBe('/authors/:id');
    // The query string (a token here) never reaches a span.
    expect(attribute(request, 'url.path')).toBe(`/authors/${id}`);
    expect(JSON.stringify(trace)).not.toContain('secret-value');

    const completed = lines
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'request completed' && line.route === '/authors/:id');
    expect(completed?.traceId).toBe(traceId);

    if (database.handle.engine === 'postgres') {
      const bySpanId = new Map(trace.map((span) => [span.spanId, span]));
      const descendsFromRequest = (span: OtlpSpan): boolean => {
        for (
          let parent = bySpanId.get(span.parentSpanId ?? '');
          parent;
          parent = bySpanId.get(parent.parentSpanId ?? '')
        ) {
          if (parent === request) return true;
        }
        return false;
      };
      const statement = trace.find((span) => attribute(span, 'db.system.name') === 'postgresql');
      expect(statement).toBeDefined();
      expect(descendsFromRequest(statement!)).toBe(true);
      expect(statement!.name).toBe('select');
      expect(attribute(statement!, 'db.query.text')).toMatch(
        /^select .* from "authors" where "authors"\."id" = \$1/,
      );
      expect(JSON.stringify(statement)).not.toContain(id);
      expect(attribute(statement!, 'db.response.returned_rows')).toBe(1);
    }
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)('show the time a statement waited for a connection', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, DB_POOL_MAX: '1' };
    const database = await createTestDatabase(notes, { env });
    cleanups.push(() => database.dispose());
    await startApp(notes, { settings: database.settings, handle: database.handle, migrate: false });
    // One connection runs two statements at once: the third waits for one of them.
    await Promise.all(Array.from({ length: 3 }, () => database.handle.db.execute(sql`select pg_sleep(0.2)`)));
    await activeTracing()!.provider.forceFlush();
    const sleeps = receiver.spans.filter(
      (span) => attribute(span, 'db.query.text') === 'select pg_sleep(0.2)',
    );
    expect(sleeps).toHaveLength(3);
    const waits = receiver.spans.filter((span) => span.name === 'pool wait');
    const waited = sleeps.filter((statement) => waits.some((wait) => wait.parentSpanId === statement.spanId));
    expect(waited).toHaveLength(1);
    const wait = waits.find((span) => span.parentSpanId === waited[0]!.spanId)!;
    const ms = Number(BigInt(wait.endTimeUnixNano) - BigInt(wait.startTimeUnixNano)) / 1e6;
    expect(ms).toBeGreaterThan(100);
  });
});
