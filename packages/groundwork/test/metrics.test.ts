import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { defineApp } from '../src/app.ts';
import { openDatabase } from '../src/database/open.ts';
import { emptyInMemoryPglite } from '../src/database/pglite-cluster.ts';
import { scrape } from '../src/observability/exposition.ts';
import { startApp } from '../src/runtime.ts';
import { buildServer } from '../src/server.ts';
import { createServerTestDatabase, testSettings } from '../src/testing/index.ts';
import { until } from './support/load.ts';
import notes from './support/notes/src/app.ts';
import { type Served, serveOnTestDatabase } from './support/serve.ts';
import { bin, startServer } from './support/subprocess.ts';

const OBSERVABILITY_DOCS = join(import.meta.dirname, '..', '..', '..', 'docs', 'observability');
const OPERATOR_KEY = 'metrics-test-operator-key-0123456789abcdef';
const PRODUCTION = { NODE_ENV: 'production', ADMIN_API_KEYS: OPERATOR_KEY };
const asOperator = { authorization: `Bearer ${OPERATOR_KEY}` };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(env: Record<string, string>): Promise<Served> {
  const served = await serveOnTestDatabase(notes, { env });
  cleanups.push(() => served.close());
  return served;
}

/**
 * The sum of `name`'s samples whose labels include `labels`. Metrics belong to the process, and test files
 * share worker processes, so tests compare a value with the one before their requests.
 */
function sampleSum(text: string, name: string, labels: Record<string, string>): number {
  return samples(text, name, labels).reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

const scrapeOf = async (server: Served['server']) =>
  (await server.inject({ url: '/metrics', headers: asOperator })).body;

/** The sample lines of `name` in a scrape whose labels include every one of `labels`. */
function samples(text: string, name: string, labels: Record<string, string>): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)));
}

describe('GET /metrics on the app port', { timeout: 60_000 }, () => {
  it('answers operators only in production: anonymous 401, a user credential 401, an operator key the scrape', async () => {
    const { server } = await serve(PRODUCTION);
    const before = await scrapeOf(server);
    const author = await server.inject({
      method: 'POST',
      url: '/authors',
      headers: asOperator,
      payload: { email: 'ada@example.com' },
    });
    expect(author.statusCode).toBe(201);
    const { id } = author.json() as { id: string };
    expect((await server.inject({ url: `/authors/${id}`, headers: asOperator })).statusCode).toBe(200);

    const anonymous = await server.inject({ url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.body).not.toContain('groundwork_');
    expect(
      (await server.inject({ url: '/metrics', headers: { authorization: 'Bearer not-a-key' } })).statusCode,
    ).toBe(401);

    const scrape = await server.inject({ url: '/metrics', headers: asOperator });
    expect(scrape.statusCode).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = scrape.body;
    const added = (labels: Record<string, string>) =>
      sampleSum(text, 'groundwork_http_request_duration_seconds_count', labels) -
      sampleSum(before, 'groundwork_http_request_duration_seconds_count', labels);
    expect(added({ app: 'notes', route: '/authors/:id', method: 'GET', status_class: '2xx' })).toBe(1);
    expect(added({ app: 'notes', route: '/authors', method: 'POST', status_class: '2xx' })).toBe(1);
    // The two refused scrapes count, as 4xx of the /metrics route (the first scrape, before, as a 2xx).
    expect(added({ app: 'notes', route: '/metrics', method: 'GET', status_class: '4xx' })).toBe(2);
    expect(added({ app: 'notes', route: '/metrics', method: 'GET', status_class: '2xx' })).toBe(1);
    // Ids never become labels.
    expect(text).not.toContain(id);
    // A response leaves the gauge when its socket closes, a moment after the reply: in the end the count is
    // back where it was (each scrape counting itself).
    const inFlight = (scraped: string) =>
      sampleSum(scraped, 'groundwork_http_requests_in_flight', { app: 'notes' });
    expect(inFlight(before)).toBeGreaterThanOrEqual(1);
    await until(async () => inFlight(await scrapeOf(server)) === inFlight(before));
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('stays out of the OpenAPI document', async () => {
    const { server } = await serve(PRODUCTION);
    const document = (await server.inject({ url: '/docs/json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).not.toContain('/metrics');
    expect(Object.keys(document.paths)).toContain('/authors/{id}');
  });

  it('is not there with METRICS=false, and requests are not measured', async () => {
    const { server } = await serve({ ...PRODUCTION, METRICS: 'false' });
    const labels = { app: 'notes', route: '/count' };
    const counted = async () =>
      sampleSum(await scrape(), 'groundwork_http_request_duration_seconds_count', labels);
    const before = await counted();
    expect((await server.inject({ url: '/count', headers: asOperator })).statusCode).toBe(200);
    expect((await server.inject({ url: '/metrics', headers: asOperator })).statusCode).toBe(404);
    expect(await counted()).toBe(before);
  });

  it('counts unmatched paths under one route label, not by path', async () => {
    const { server } = await serve(PRODUCTION);
    await server.inject({ url: '/no/such/path/12345', headers: asOperator });
    const text = (await server.inject({ url: '/metrics', headers: asOperator })).body;
    expect(
      samples(text, 'groundwork_http_request_duration_seconds_count', {
        route: 'unmatched',
        status_class: '4xx',
      }).length,
    ).toBeGreaterThan(0);
    expect(text).not.toContain('12345');
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'on a PostgreSQL server: statements by kind, the pool gauges, the migrations a start ran',
    async () => {
      const { server } = await serve(PRODUCTION);
      await server.inject({
        method: 'POST',
        url: '/authors',
        headers: asOperator,
        payload: { email: 'grace@example.com' },
      });
      await server.inject({ url: '/count', headers: asOperator });
      const text = (await server.inject({ url: '/metrics', headers: asOperator })).body;
      for (const operation of ['insert', 'select']) {
        expect(
          samples(text, 'groundwork_db_query_duration_seconds_count', {
            app: 'notes',
            pool: 'primary',
            operation,
          }),
        ).toHaveLength(1);
      }
      expect(
        samples(text, 'groundwork_db_pool_size', { app: 'notes', pool: 'primary' }).length,
      ).toBeGreaterThan(0);
      expect(
        samples(text, 'groundwork_db_pool_in_use', { app: 'notes', pool: 'primary' }).length,
      ).toBeGreaterThan(0);
      expect(
        samples(text, 'groundwork_db_pool_waiting', { app: 'notes', pool: 'primary' }).length,
      ).toBeGreaterThan(0);
      // No statement text, no parameter value in a label.
      expect(text).not.toContain('grace@example.com');
      expect(text).not.toContain('insert into');
    },
  );
});

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const hasPrometheus = await new Promise<boolean>((resolve) => {
  const child = spawn('prometheus', ['--version'], { stdio: 'ignore' });
  child.once('error', () => resolve(false));
  child.once('exit', (code) => resolve(code === 0));
});

describe('all apps on one server', { timeout: 60_000 }, () => {
  it('label each request with its app; each app answers /<app>/metrics to operators', async () => {
    const pglite = await emptyInMemoryPglite();
    cleanups.push(() => pglite.close());
    const running = [];
    for (const name of ['alpha', 'beta']) {
      const definition = defineApp({
        name,
        title: name,
        dir: join(import.meta.dirname, 'support', 'notes'),
        schema: {},
        routes: (app) => {
          app.get('/ping', async () => ({ pong: name }));
        },
      });
      const settings = testSettings(definition, PRODUCTION);
      const handle = await openDatabase(settings, { schema: {}, pglite });
      running.push(await startApp(definition, { settings, handle, migrate: false }));
    }
    const server = await buildServer(running, { mount: 'prefixed', logLevel: 'silent' });
    cleanups.push(() => server.close());
    await server.inject({ url: '/alpha/ping', headers: asOperator });
    await server.inject({ url: '/beta/ping', headers: asOperator });
    await server.inject({ url: '/beta/ping', headers: asOperator });
    expect((await server.inject({ url: '/alpha/metrics' })).statusCode).toBe(401);
    expect((await server.inject({ url: '/metrics', headers: asOperator })).statusCode).toBe(404);
    const text = (await server.inject({ url: '/beta/metrics', headers: asOperator })).body;
    const count = { method: 'GET', status_class: '2xx' };
    expect(
      samples(text, 'groundwork_http_request_duration_seconds_count', {
        ...count,
        app: 'alpha',
        route: '/alpha/ping',
      }),
    ).toEqual([expect.stringMatching(/ 1$/)]);
    expect(
      samples(text, 'groundwork_http_request_duration_seconds_count', {
        ...count,
        app: 'beta',
        route: '/beta/ping',
      }),
    ).toEqual([expect.stringMatching(/ 2$/)]);
    // The root's own routes (the index, the aggregate health, unmatched paths) count under `groundwork`.
    expect(
      samples(text, 'groundwork_http_request_duration_seconds_count', {
        app: 'groundwork',
        route: 'unmatched',
      }),
    ).toHaveLength(1);
  });
});

describe('replica pools', { timeout: 60_000 }, () => {
  it.skipIf(!process.env.TEST_DATABASE_URL)('have gauges of their own, labelled by position', async () => {
    // The primary's own URL as the one replica: its pool is opened and watched like any replica's.
    const database = await createServerTestDatabase(notes);
    cleanups.push(() => database.dispose());
    const { server, database: served } = await serve({
      ...PRODUCTION,
      DATABASE_REPLICA_URLS: database.settings.databaseUrl!,
    });
    const size = served!.settings.pool.max;
    const text = (await server.inject({ url: '/metrics', headers: asOperator })).body;
    expect(samples(text, 'groundwork_db_pool_size', { app: 'notes', pool: 'replica-1' })).toEqual([
      expect.stringMatching(new RegExp(` ${size}$`)),
    ]);
    expect(samples(text, 'groundwork_db_pool_in_use', { app: 'notes', pool: 'replica-1' })).toHaveLength(1);
    expect(samples(text, 'groundwork_db_pool_waiting', { app: 'notes', pool: 'replica-1' })).toHaveLength(1);
  });
});

describe('pool-wait refusals', { timeout: 60_000 }, () => {
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'count each statement the full pool refused (the 503s)',
    async () => {
      const { server, database } = await serve({
        ...PRODUCTION,
        DB_POOL_MAX: '1',
        DB_POOL_WAIT_TIMEOUT_MS: '50',
      });
      // One connection holds two statements; the next two wait 50 ms and are refused.
      const refused = (scraped: string) =>
        sampleSum(scraped, 'groundwork_db_pool_wait_timeouts_total', { app: 'notes', pool: 'primary' });
      const before = await scrapeOf(server);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, () => database!.handle.db.execute(sql`select pg_sleep(0.3)`)),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(2);
      expect(refused(await scrapeOf(server)) - refused(before)).toBe(2);
    },
  );
});

describe('a real Prometheus', { timeout: 120_000 }, () => {
  // `.ci/run` installs Debian's prometheus; elsewhere the test says it was skipped rather than pass unseen.
  it.skipIf(!hasPrometheus)(
    'scrapes a served app on METRICS_PORT and its query API returns the request histogram by route',
    async () => {
      const env: Record<string, string> = { ...PRODUCTION, METRICS_PORT: String(await freePort()) };
      if (process.env.TEST_DATABASE_URL) {
        const database = await createServerTestDatabase(notes);
        cleanups.push(() => database.dispose());
        env.DATABASE_URL = database.settings.databaseUrl!;
      } else {
        const dataDir = mkdtempSync(join(tmpdir(), 'gw-metrics-'));
        cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
        env.DATA_DIR = dataDir;
        env.MIGRATE_ON_START = 'true';
      }
      const app = await startServer({ env });
      cleanups.push(() => {
        app.child.kill('SIGKILL');
      });
      await until(() => app.output().includes('/metrics (no credential'));
      const created = await fetch(`${app.url}/authors`, {
        method: 'POST',
        headers: { ...asOperator, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com' }),
      });
      expect(created.status).toBe(201);
      // The credential-free listener answers only /metrics.
      expect((await fetch(`http://127.0.0.1:${env.METRICS_PORT}/authors`)).status).toBe(404);

      const folder = mkdtempSync(join(tmpdir(), 'gw-prometheus-'));
      cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
      const config = join(folder, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global: { scrape_interval: 1s }',
          'scrape_configs:',
          '  - job_name: groundwork',
          `    static_configs: [{ targets: ['127.0.0.1:${env.METRICS_PORT}'] }]`,
          '',
        ].join('\n'),
      );
      const webPort = await freePort();
      const prometheus = spawn(
        'prometheus',
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(folder, 'data')}`,
          `--web.listen-address=127.0.0.1:${webPort}`,
        ],
        { stdio: 'ignore' },
      );
      cleanups.push(() => {
        prometheus.kill('SIGKILL');
      });
      const query = encodeURIComponent(
        'groundwork_http_request_duration_seconds_bucket{app="notes",route="/authors",method="POST",status_class="2xx",le="+Inf"}',
      );
      let result: { metric: Record<string, string>; value: [number, string] }[] = [];
      await until(async () => {
        const answer = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${query}`).catch(
          () => undefined,
        );
        if (!answer?.ok) return false;
        result = ((await answer.json()) as { data: { result: typeof result } }).data.result;
        return result.length > 0;
      }, 60_000);
      expect(result).toHaveLength(1);
      expect(result[0]!.metric).toMatchObject({ job: 'groundwork', route: '/authors', app: 'notes' });
      expect(Number(result[0]!.value[1])).toBe(1);
      // Every query of the dashboard and every alert rule is valid PromQL against these metrics; the request
      // panels find series.
      const dashboard = JSON.parse(
        readFileSync(join(OBSERVABILITY_DOCS, 'grafana-dashboard.json'), 'utf8'),
      ) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      const ask = async (expr: string) => {
        const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$app', '.*');
        const answer = await fetch(
          `http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(promql)}`,
        );
        return (await answer.json()) as { status: string; error?: string; data?: { result: unknown[] } };
      };
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const answer = await ask(target.expr);
          expect(answer, `${panel.title}: ${target.expr}`).toMatchObject({ status: 'success' });
          if (/^Requests per second|^Latency|^Requests in flight|^Process/.test(panel.title)) {
            // rate() needs two scrapes in its window.
            await until(async () => ((await ask(target.expr)).data?.result.length ?? 0) > 0, 30_000);
          }
        }
      }
      const rules = readFileSync(join(OBSERVABILITY_DOCS, 'alerts.yml'), 'utf8');
      for (const [, expr] of rules.matchAll(/expr: (?:\|\n)?([\s\S]+?)\n\s+(?:for|labels):/g)) {
        expect(await ask(expr!.trim()), expr).toMatchObject({ status: 'success' });
      }
      const check = spawnSync('promtool', ['check', 'rules', join(OBSERVABILITY_DOCS, 'alerts.yml')], {
        encoding: 'utf8',
      });
      expect(check.stdout + check.stderr).toContain('SUCCESS: 6 rules found');
      if (!process.env.TEST_DATABASE_URL) {
        // This process migrated its embedded database at start.
        const text = await (await fetch(`http://127.0.0.1:${env.METRICS_PORT}/metrics`)).text();
        expect(
          samples(text, 'groundwork_migrations_applied_total', { app: 'notes', direction: 'up' }),
        ).toEqual([expect.stringMatching(/ [1-9]\d*$/)]);
        expect(samples(text, 'groundwork_migration_duration_seconds_count', { app: 'notes' })).toHaveLength(
          1,
        );
      }
    },
  );
});

describe('serve --workers 2', { timeout: 120_000 }, () => {
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    "sums both workers' metrics in one scrape, on METRICS_PORT and on the app port",
    async () => {
      const database = await createServerTestDatabase(notes);
      cleanups.push(() => database.dispose());
      const metricsPort = await freePort();
      const server = await startServer({
        command: [process.execPath, bin, 'serve', '--workers', '2'],
        env: {
          ...PRODUCTION,
          DATABASE_URL: database.settings.databaseUrl!,
          METRICS_PORT: String(metricsPort),
        },
      });
      cleanups.push(() => {
        server.child.kill('SIGTERM');
        return server.exited.then(() => undefined);
      });
      await until(() => (server.output().match(/worker \d+ \(pid \d+\) listening/g) ?? []).length === 2);
      const requests = 40;
      // Fresh connections, so the primary's round robin hands requests to both workers.
      for (let i = 0; i < requests; i++) {
        const answer = await fetch(`${server.url}/count`, {
          headers: { ...asOperator, connection: 'close' },
        });
        expect(answer.status).toBe(200);
      }
      // Both workers served some of them (their log lines carry their pids), so the sum below is a sum.
      const servedBy = () =>
        new Set(
          server
            .output()
            .split('\n')
            .filter((line) => line.includes('"route":"/count"'))
            .map((line) => (JSON.parse(line) as { pid: number }).pid),
        );
      await until(() => servedBy().size === 2);
      const labels = { app: 'notes', route: '/count', method: 'GET', status_class: '2xx' };
      const counted = (text: string) =>
        samples(text, 'groundwork_http_request_duration_seconds_count', labels).map((line) =>
          Number(line.split(' ').at(-1)),
        );
      const onMetricsPort = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(counted(onMetricsPort)).toEqual([requests]);
      // Through a worker, which asks the primary for the sum.
      const onAppPort = await fetch(`${server.url}/metrics`, { headers: asOperator });
      expect(onAppPort.status).toBe(200);
      expect(counted(await onAppPort.text())).toEqual([requests]);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    },
  );
});
