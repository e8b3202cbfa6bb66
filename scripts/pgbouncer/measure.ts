/**
 * What pooler mode costs per statement: the same Drizzle queries on one handle, direct (named prepared
 * statements, startup statement_timeout), direct with DB_PREPARE=false (unnamed statements, each in its own
 * transaction with SET LOCAL statement_timeout; then without a timeout, so without that transaction), and
 * through PgBouncer (?pgbouncer=true, default_pool_size 5) without and with a database-level statement_timeout
 * (with it, statements need no transaction of their own), with the server connections each holds, and each
 * PgBouncer mode's reads/s as a share of direct. Figures for docs/scaling.md.
 *
 *   node scripts/pgbouncer/measure.ts [server URL, default postgres://postgres@127.0.0.1:5432/postgres]
 *
 * MEASURE_STATEMENTS (default 10000) sets how many reads and updates each concurrent rate runs: a smaller
 * number makes a smoke run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { integer, pgTable } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { loadSettings } from '../../packages/groundwork/src/config.ts';
import { openDatabase } from '../../packages/groundwork/src/database/open.ts';
import { withDatabase } from '../../packages/groundwork/src/database/urls.ts';

const serverUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = 1000;
const CONCURRENT = Number(process.env.MEASURE_STATEMENTS ?? 10_000);
const SEQUENTIAL = Math.min(2000, CONCURRENT);
const CONCURRENCY = 50;
const items = pgTable('measure_items', { id: integer('id').primaryKey(), value: integer('value').notNull() });

const port = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});
const upstream = new URL(serverUrl);
const bouncerDir = execFileSync(
  join(import.meta.dirname, 'start.sh'),
  [String(port), `${upstream.hostname}:${upstream.port || 5432}`],
  { encoding: 'utf8' },
)
  .trim()
  .split('\n')
  .at(-1)!;
const database = `gwt_measure_${randomBytes(4).toString('hex')}`;
/** A copy whose database-level statement_timeout every server connection inherits. */
const bounded = `${database}_bounded`;
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
const direct = withDatabase(serverUrl, database);
const throughPooler = (name: string) => {
  const url = new URL(withDatabase(serverUrl, name));
  url.port = String(port);
  url.searchParams.set('pgbouncer', 'true');
  return url.toString();
};

async function measure(mode: string, env: Record<string, string>, name = database) {
  const applicationName = `measure:${mode}`;
  const settings = loadSettings({
    appName: 'measure',
    readDotenv: false,
    env: { DB_POOL_MAX: '10', ...env },
  });
  const handle = await openDatabase(settings, { schema: { items }, applicationName });
  const pick = () => 1 + Math.floor(Math.random() * ROWS);
  const read = () => handle.db.select().from(items).where(eq(items.id, pick()));
  const write = () =>
    handle.db
      .update(items)
      .set({ value: sql`${items.value} + 1` })
      .where(eq(items.id, pick()));
  const timings: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now();
    await read();
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  const rate = async (work: () => PromiseLike<unknown>) => {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < CONCURRENT) await work();
      }),
    );
    return Math.round(CONCURRENT / ((performance.now() - started) / 1000));
  };
  const reads = await rate(read);
  const writes = await rate(write);
  const [held] = await admin<{ count: number }[]>`
    select count(*)::int as count from pg_stat_activity where datname = ${name} and backend_type = 'client backend'`;
  await handle.close();
  return {
    mode,
    'read p50 ms': timings[Math.floor(SEQUENTIAL / 2)]!.toFixed(3),
    'read p99 ms': timings[Math.floor(SEQUENTIAL * 0.99)]!.toFixed(3),
    [`reads/s (${CONCURRENCY} concurrent)`]: reads,
    [`updates/s (${CONCURRENCY} concurrent)`]: writes,
    'server connections': held!.count,
  };
}

try {
  for (const name of [database, bounded]) {
    await admin.unsafe(`create database "${name}"`);
    const setup = await openDatabase(
      loadSettings({
        appName: 'measure',
        readDotenv: false,
        env: { DATABASE_URL: withDatabase(serverUrl, name) },
      }),
      { schema: { items } },
    );
    await setup.db.execute(sql`create table measure_items (id integer primary key, value integer not null)`);
    await setup.db.execute(sql`insert into measure_items select g, 0 from generate_series(1, ${ROWS}) g`);
    await setup.close();
  }
  // DB_STATEMENT_TIMEOUT_MS's default.
  await admin.unsafe(`alter database "${bounded}" set statement_timeout = 30000`);
  const results = [];
  results.push(await measure('direct', { DATABASE_URL: direct }));
  results.push(await measure('direct, DB_PREPARE=false', { DATABASE_URL: direct, DB_PREPARE: 'false' }));
  // Without a timeout there is no per-statement transaction: what the unnamed statements alone cost.
  results.push(
    await measure('direct, DB_PREPARE=false, no timeout', {
      DATABASE_URL: direct,
      DB_PREPARE: 'false',
      DB_STATEMENT_TIMEOUT_MS: '0',
    }),
  );
  results.push(await measure('PgBouncer, ?pgbouncer=true', { DATABASE_URL: throughPooler(database) }));
  results.push(
    await measure('PgBouncer, database statement_timeout', { DATABASE_URL: throughPooler(bounded) }, bounded),
  );
  const readsOf = (row: Record<string, unknown>) => row[`reads/s (${CONCURRENCY} concurrent)`] as number;
  console.table(
    results.map((row) => ({ ...row, 'reads/s of direct': (readsOf(row) / readsOf(results[0]!)).toFixed(2) })),
  );
} finally {
  for (const name of [database, bounded])
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
  execFileSync(join(import.meta.dirname, 'stop.sh'), [bouncerDir]);
}
