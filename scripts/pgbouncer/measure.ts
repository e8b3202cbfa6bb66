/**
 * What pooler mode costs per statement: the same Drizzle queries on one handle (DB_POOL_MAX=10), direct and
 * through PgBouncer in transaction mode (?pgbouncer=true, default_pool_size 5), in interleaved rounds.
 *
 * Modes: direct (named statements for the prepared query, startup statement_timeout); direct with
 * DB_PREPARE=false (unnamed statements, each in its own transaction with SET LOCAL statement_timeout), and
 * with no timeout at all (no such transaction); Debian's PgBouncer without and with a database-level
 * statement_timeout (with it, statements need no transaction of their own). With PGBOUNCER_BIN naming a
 * PgBouncer >= 1.21 build, the same database through it with max_prepared_statements = 0 (unnamed, as
 * detected) and 200 (named, as detected).
 *
 * Each round runs every mode once, the order reversed every other round (a machine's speed drifts over a run);
 * per mode: primary-key selects one at a time (p50), then 50 at a time: an ad-hoc select, the same select
 * prepared as a repository's hot query (prepareQuery), and an update. Printed: each round's figures, then
 * medians with [lowest-highest] over rounds, each rate as a share of direct in the same round, and the CPU
 * time per prepared select of this process and of the PgBouncer in its path.
 *
 *   node scripts/pgbouncer/measure.ts [server URL, default postgres://postgres@127.0.0.1:5432/postgres]
 *
 * ROUNDS (default 3); MEASURE_STATEMENTS (default 10000) sets how many of each concurrent statement a mode
 * runs per round: a smaller number makes a smoke run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { integer, pgTable } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { cpuMs, loadAverage } from '../../bench/proc.ts';
import { loadSettings } from '../../packages/groundwork/src/config.ts';
import { openDatabase } from '../../packages/groundwork/src/database/open.ts';
import { prepareQuery } from '../../packages/groundwork/src/database/prepared.ts';
import { withDatabase } from '../../packages/groundwork/src/database/urls.ts';

const serverUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = 1000;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENT = Number(process.env.MEASURE_STATEMENTS ?? 10_000);
const SEQUENTIAL = Math.min(2000, CONCURRENT);
const CONCURRENCY = 50;
const NEWER = process.env.PGBOUNCER_BIN;
const items = pgTable('measure_items', { id: integer('id').primaryKey(), value: integer('value').notNull() });

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

interface Pooler {
  port: number;
  dir: string;
  pid: number;
}

const upstream = new URL(serverUrl);
async function startPooler(env: Record<string, string>): Promise<Pooler> {
  const port = await freePort();
  const dir = execFileSync(
    join(import.meta.dirname, 'start.sh'),
    [String(port), `${upstream.hostname}:${upstream.port || 5432}`],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  )
    .trim()
    .split('\n')
    .at(-1)!;
  return { port, dir, pid: Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8')) };
}

const poolers: Pooler[] = [];
const prefix = `gwt_measure_${randomBytes(4).toString('hex')}`;
const databases: string[] = [];
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
const throughPooler = (pooler: Pooler, name: string) => {
  const url = new URL(withDatabase(serverUrl, name));
  url.port = String(pooler.port);
  url.searchParams.set('pgbouncer', 'true');
  return url.toString();
};

interface Mode {
  name: string;
  env: Record<string, string>;
  database: string;
  pooler?: Pooler;
}

interface Run {
  p50Ms: number;
  adHoc: number;
  prepared: number;
  updates: number;
  /** CPU time per prepared select, µs: this process, and the PgBouncer in the path. */
  clientUs: number;
  poolerUs: number;
  connections: number;
  named: boolean;
}

async function measure(mode: Mode): Promise<Run> {
  const settings = loadSettings({
    appName: 'measure',
    readDotenv: false,
    env: { DB_POOL_MAX: '10', ...mode.env },
  });
  const handle = await openDatabase(settings, { schema: { items }, applicationName: `measure:${mode.name}` });
  const pick = () => 1 + Math.floor(Math.random() * ROWS);
  const byId = prepareQuery(
    handle.db,
    'measure_by_id',
    handle.db
      .select()
      .from(items)
      .where(eq(items.id, sql.placeholder('id'))),
  );
  const adHoc = () => handle.db.select().from(items).where(eq(items.id, pick()));
  const prepared = () => byId.execute({ id: pick() });
  const write = () =>
    handle.db
      .update(items)
      .set({ value: sql`${items.value} + 1` })
      .where(eq(items.id, pick()));
  const timings: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now();
    await prepared();
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
  const adHocRate = await rate(adHoc);
  const client = process.cpuUsage();
  const poolerBefore = mode.pooler ? cpuMs([mode.pooler.pid]) : 0;
  const preparedRate = await rate(prepared);
  const clientUsed = process.cpuUsage(client);
  const poolerUsed = mode.pooler ? cpuMs([mode.pooler.pid]) - poolerBefore : 0;
  const updates = await rate(write);
  const [held] = await admin<{ count: number }[]>`
    select count(*)::int as count from pg_stat_activity
    where datname = ${mode.database} and backend_type = 'client backend'`;
  const named = (handle.db as { $client?: { options?: { prepare?: boolean } } }).$client?.options?.prepare;
  await handle.close();
  return {
    p50Ms: timings[Math.floor(SEQUENTIAL / 2)]!,
    adHoc: adHocRate,
    prepared: preparedRate,
    updates,
    clientUs: (clientUsed.user + clientUsed.system) / CONCURRENT,
    poolerUs: (poolerUsed * 1000) / CONCURRENT,
    connections: held!.count,
    named: named !== false,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** "median [lowest-highest]". */
const spread = (values: number[], digits: number) => {
  const f = (v: number) =>
    v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return `${f(median(values))} [${f(Math.min(...values))}-${f(Math.max(...values))}]`;
};

/**
 * A database of its own for each pooler's modes, so the server connections counted are that pooler's; when
 * `bounded`, with a database-level statement_timeout (DB_STATEMENT_TIMEOUT_MS's default) every server
 * connection inherits.
 */
async function createDatabase(bounded: boolean): Promise<string> {
  const name = `${prefix}_${databases.length}`;
  databases.push(name);
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
  if (bounded) await admin.unsafe(`alter database "${name}" set statement_timeout = 30000`);
  return name;
}

try {
  const debian = await startPooler({ PGBOUNCER_BIN: 'pgbouncer', PGBOUNCER_MAX_PREPARED_STATEMENTS: '' });
  poolers.push(debian);
  const database = await createDatabase(false);
  const direct = withDatabase(serverUrl, database);
  const unbounded = await createDatabase(false);
  const bounded = await createDatabase(true);
  const modes: Mode[] = [
    { name: 'direct', env: { DATABASE_URL: direct }, database },
    { name: 'direct, DB_PREPARE=false', env: { DATABASE_URL: direct, DB_PREPARE: 'false' }, database },
    {
      name: 'direct, DB_PREPARE=false, no timeout',
      env: { DATABASE_URL: direct, DB_PREPARE: 'false', DB_STATEMENT_TIMEOUT_MS: '0' },
      database,
    },
    {
      name: 'PgBouncer 1.18, no server timeout',
      env: { DATABASE_URL: throughPooler(debian, unbounded) },
      database: unbounded,
      pooler: debian,
    },
    {
      name: 'PgBouncer 1.18, database timeout',
      env: { DATABASE_URL: throughPooler(debian, bounded) },
      database: bounded,
      pooler: debian,
    },
  ];
  if (NEWER) {
    const version = execFileSync(NEWER, ['--version'], { encoding: 'utf8' })
      .split('\n')[0]!
      .replace('PgBouncer ', '');
    for (const prepared of ['0', '200']) {
      const pooler = await startPooler({ PGBOUNCER_BIN: NEWER, PGBOUNCER_MAX_PREPARED_STATEMENTS: prepared });
      poolers.push(pooler);
      const own = await createDatabase(true);
      modes.push({
        name: `PgBouncer ${version}, max_prepared_statements=${prepared}, database timeout`,
        env: { DATABASE_URL: throughPooler(pooler, own) },
        database: own,
        pooler,
      });
    }
  }

  const runs = new Map<string, Run[]>(modes.map((mode) => [mode.name, []]));
  const loads: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    loads.push(loadAverage());
    const order = round % 2 === 1 ? modes : modes.toReversed();
    for (const mode of order) runs.get(mode.name)!.push(await measure(mode));
    process.stderr.write(`round ${round}/${ROUNDS} done (load average before it: ${loads.at(-1)})\n`);
  }

  const base = runs.get('direct')!;
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`\nround ${round + 1} (load average before it: ${loads[round]})`);
    console.table(
      modes.map((mode) => {
        const run = runs.get(mode.name)![round]!;
        return {
          mode: mode.name,
          'p50 ms': run.p50Ms.toFixed(3),
          'ad-hoc selects/s': run.adHoc,
          'prepared selects/s': run.prepared,
          'updates/s': run.updates,
          'client µs/select': run.clientUs.toFixed(0),
          'PgBouncer µs/select': mode.pooler ? run.poolerUs.toFixed(0) : '-',
        };
      }),
    );
  }
  console.log(
    `\nNode ${process.version}, ${ROUNDS} interleaved rounds, ${CONCURRENT.toLocaleString('en-US')} statements ` +
      `of each kind at ${CONCURRENCY} concurrent per mode and round: medians [lowest-highest]; "of direct" is ` +
      "each round's rate over direct's in the same round.",
  );
  const ratios = (runsOf: Run[], pick: (run: Run) => number) =>
    spread(
      runsOf.map((run, round) => pick(run) / pick(base[round]!)),
      2,
    );
  console.table(
    modes.map((mode) => {
      const own = runs.get(mode.name)!;
      return {
        mode: mode.name,
        named: own.every((run) => run.named) ? 'yes' : own.some((run) => run.named) ? 'mixed' : 'no',
        'p50 ms': spread(
          own.map((run) => run.p50Ms),
          3,
        ),
        'ad-hoc selects/s': spread(
          own.map((run) => run.adHoc),
          0,
        ),
        'of direct': ratios(own, (run) => run.adHoc),
        'prepared selects/s': spread(
          own.map((run) => run.prepared),
          0,
        ),
        'of direct ': ratios(own, (run) => run.prepared),
        'updates/s': spread(
          own.map((run) => run.updates),
          0,
        ),
        'client µs/select': spread(
          own.map((run) => run.clientUs),
          0,
        ),
        'PgBouncer µs/select': mode.pooler
          ? spread(
              own.map((run) => run.poolerUs),
              0,
            )
          : '-',
        'server connections': median(own.map((run) => run.connections)),
      };
    }),
  );
} finally {
  for (const name of databases) await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
  for (const pooler of poolers) execFileSync(join(import.meta.dirname, 'stop.sh'), [pooler.dir]);
}
