/**
 * Behind PgBouncer 1.18 in transaction mode (scripts/pgbouncer: default_pool_size 5; this version has no
 * prepared statements in transaction mode), in front of the test server. A URL marked `?pgbouncer=true`
 * turns off session settings, and named prepared statements once the check at open finds the pooler passes
 * names through: the statement timeout is set per transaction (or left to the database's own setting), and
 * migrations refuse the pooler and use DIRECT_DATABASE_URL. Unnamed statements go in one round trip
 * (adapters/postgres-one-trip.ts): every kind of column value reads and writes the same as directly. Then
 * the real thing: learnr served by the CLI through the pooler under a 200-request burst, and the learnr and
 * rnd-cards API suites through it.
 *
 * With PGBOUNCER_BIN naming a PgBouncer >= 1.21 build, the same check against it: named statements with
 * max_prepared_statements > 0, unnamed with 0.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { and, eq, gte, isNull, lte, or, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  date,
  doublePrecision,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, type RawEnv } from '../src/config.ts';
import { dropDatabase, ensureDatabase } from '../src/database/admin.ts';
import { databaseErrorOf } from '../src/database/connection-errors.ts';
import { type DatabaseHandle, openDatabase } from '../src/database/open.ts';
import { prepareQuery } from '../src/database/prepared.ts';
import { executeRows } from '../src/database/rows.ts';
import { withDatabase } from '../src/database/urls.ts';
import { MigrationError, upgrade } from '../src/migrations/runner.ts';
import { cli, ok } from './support/harness.ts';
import notes from './support/notes/src/app.ts';
import {
  missingPrograms,
  newerPgbouncer,
  type Pgbouncer,
  REPO,
  startPgbouncer,
  urlAt,
} from './support/servers.ts';
import { bin, startServer } from './support/subprocess.ts';

const serverUrl = process.env.TEST_DATABASE_URL;
const SHELF = join(import.meta.dirname, 'support', 'shelf');
const skipped = serverUrl
  ? missingPrograms('pgbouncer', 'pg_isready')
  : 'needs TEST_DATABASE_URL (a real server)';
// On a server run a missing program is worth a line of its own, not only a skipped count.
if (serverUrl && skipped) console.warn(`the PgBouncer tests are skipped: ${skipped}`);
const newer = newerPgbouncer();
const newerSkipped = skipped ?? ('skipped' in newer ? newer.skipped : undefined);
if (serverUrl && !skipped && newerSkipped) {
  console.warn(`the PgBouncer >= 1.21 named-statement tests are skipped: ${newerSkipped}`);
}

const items = pgTable('gw_items', { id: integer('id').primaryKey() });

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });
/** A column of each kind of value an app stores, to compare what comes back direct and through the pooler. */
const kinds = pgTable('gw_kinds', {
  id: integer('id').primaryKey(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }),
  day: date('day'),
  count: integer('count'),
  amount: numeric('amount'),
  big: bigint('big', { mode: 'bigint' }),
  ratio: doublePrecision('ratio'),
  flag: boolean('flag'),
  doc: jsonb('doc'),
  tags: text('tags').array(),
  scores: integer('scores').array(),
  bytes: bytea('bytes'),
  ref: uuid('ref'),
  note: text('note'),
});
const KINDS_TABLE = `create table gw_kinds (id integer primary key, at timestamptz, day date, count integer,
  amount numeric, big bigint, ratio double precision, flag boolean, doc jsonb, tags text[], scores integer[],
  bytes bytea, ref uuid, note text)`;
const FULL = {
  at: new Date('2026-12-07T21:00:00.123Z'),
  day: '2026-12-07',
  count: -42,
  amount: '12345.678900',
  big: 9007199254740993n,
  ratio: 0.1,
  flag: true,
  doc: { text: 'it\'s "quoted"', list: [1, null, 'x'], nested: { ok: false } },
  tags: ['a b', 'c,d', 'e"f', ''],
  scores: [3, -1, 0],
  bytes: Buffer.from([0, 1, 92, 254, 255]),
  ref: '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  note: 'back\\slash',
};

/**
 * The two rows `writeKinds` wrote at `first` (every column set, every column null), read by a prepared hot
 * query, an ad-hoc select whose conditions carry a parameter of each kind, and in a transaction; ids left out.
 */
async function readKinds(handle: DatabaseHandle<any>, first: number) {
  const byId = prepareQuery(
    handle.db,
    'gw_kind_by_id',
    handle.db
      .select()
      .from(kinds)
      .where(eq(kinds.id, sql.placeholder('id'))),
  );
  const prepared = [...(await byId.execute({ id: first })), ...(await byId.execute({ id: first + 1 }))];
  const matching = and(
    gte(kinds.id, first),
    lte(kinds.id, first + 1),
    or(
      isNull(kinds.flag),
      and(
        eq(kinds.at, FULL.at),
        eq(kinds.day, FULL.day),
        eq(kinds.amount, FULL.amount),
        eq(kinds.big, FULL.big),
        eq(kinds.flag, FULL.flag),
        eq(kinds.doc, FULL.doc),
        eq(kinds.tags, FULL.tags),
        eq(kinds.bytes, FULL.bytes),
        eq(kinds.ref, FULL.ref),
        eq(kinds.note, FULL.note),
      ),
    ),
  );
  const adHoc = await handle.db.select().from(kinds).where(matching).orderBy(kinds.id);
  const inTransaction = await handle.db.transaction((tx) =>
    tx.select().from(kinds).where(matching).orderBy(kinds.id),
  );
  return [prepared, adHoc, inTransaction].map((rows) =>
    (rows as { id: number }[]).map(({ id: _, ...row }) => row),
  );
}

/** Whether the handle's queries prepared as hot ones get names (what prepareQuery reads). */
const namesStatements = (handle: DatabaseHandle<any>) =>
  (handle.db as unknown as { $client: { options: { prepare: boolean } } }).$client.options.prepare;

/**
 * A table to query, and its primary-key select prepared as a repository's hot query, run 200 times 50 at a
 * time: through the pooler that spreads it over every server connection.
 */
async function runHotQuery(handle: DatabaseHandle<any>): Promise<string> {
  await handle.db.execute(sql`create table gw_items (id integer primary key)`);
  await handle.db.execute(sql`insert into gw_items select g from generate_series(1, 10) g`);
  const query = handle.db
    .select()
    .from(items)
    .where(eq(items.id, sql.placeholder('id')));
  const byId = prepareQuery(handle.db, 'gw_item_by_id', query);
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => byId.execute({ id: 1 + (i % 10) }) as Promise<unknown[]>),
  );
  expect(results.map((rows) => rows.length)).toEqual(Array(200).fill(1));
  return query.toSQL().sql;
}

/**
 * The statements prepared on each of the pooler's server connections for `database`: five transactions at
 * once, each held a moment, so each gets one of the five (default_pool_size).
 */
async function preparedOnServers(
  bouncer: Pgbouncer,
  database: string,
): Promise<{ name: string; statement: string }[]> {
  const plain = postgres(urlAt(serverUrl!, bouncer.port, database), { max: 5, prepare: false });
  try {
    const seen = await Promise.all(
      Array.from({ length: 5 }, () =>
        plain.begin(async (tx) => {
          // The database's own bound (300 ms in some tests) is no concern of this look.
          await tx`set local statement_timeout = 0`;
          const [held] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.2)`;
          const rows = await tx<{ name: string; statement: string }[]>`
            select name, statement from pg_prepared_statements`;
          return { pid: held!.pid, rows: [...rows] };
        }),
      ),
    );
    expect(new Set(seen.map(({ pid }) => pid)).size, 'one transaction on each server connection').toBe(5);
    return seen.flatMap(({ rows }) => rows);
  } finally {
    await plain.end();
  }
}

/** A handle on `url` (through a pooler) with its statement timeout, and the warnings it logs as it opens. */
async function openLogged(url: string, statementTimeoutMs: string, handles: DatabaseHandle<any>[]) {
  const settings = loadSettings({
    appName: 'pgbouncer-test',
    readDotenv: false,
    env: { DATABASE_URL: url, DB_STATEMENT_TIMEOUT_MS: statementTimeoutMs },
  });
  const warnings: string[] = [];
  const handle = await openDatabase(settings, { schema: notes.schema, log: (line) => warnings.push(line) });
  handles.push(handle);
  return { handle, warnings };
}

describe.skipIf(skipped !== undefined)(
  `PgBouncer in transaction mode${skipped ? ` (skipped: ${skipped})` : ''}`,
  () => {
    let bouncer: Pgbouncer;
    const databases: string[] = [];
    const handles: DatabaseHandle<any>[] = [];

    beforeAll(async () => {
      bouncer = await startPgbouncer(serverUrl!);
    });
    afterAll(async () => {
      await Promise.all(handles.map((handle) => handle.close()));
      for (const name of databases) await dropDatabase(serverUrl!, name);
      await bouncer?.stop();
    });

    async function freshDatabase(): Promise<string> {
      const name = `gwt_pgbouncer_${randomBytes(6).toString('hex')}`;
      await ensureDatabase(serverUrl!, name);
      databases.push(name);
      return name;
    }

    async function open(env: RawEnv): Promise<DatabaseHandle<any>> {
      const settings = loadSettings({ appName: 'pgbouncer-test', readDotenv: false, env: { ...env } });
      const handle = await openDatabase(settings, { schema: notes.schema });
      handles.push(handle);
      return handle;
    }

    const codeOf = (work: Promise<unknown>) =>
      work.then(
        () => 'resolved',
        (error) => databaseErrorOf(error)?.code,
      );

    it('needs no transaction per statement when the database bounds statements itself, and warns when it does not', async () => {
      const bounded = await freshDatabase();
      const direct = postgres(withDatabase(serverUrl!, bounded), { max: 1, onnotice: () => {} });
      try {
        await direct.unsafe(`alter database "${bounded}" set statement_timeout = 300`);
        const { handle, warnings } = await openLogged(bouncer.url(bounded), '300', handles);
        // Once the check has answered, a statement is the last thing its server connection ran: no commit after it.
        const deadline = performance.now() + 10_000;
        for (;;) {
          await handle.db.execute(sql`select 'gw_alone' as marker`);
          const [last] = await direct<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where datname = ${bounded} and query = 'select ''gw_alone'' as marker'`;
          if (last!.n > 0) break;
          expect(performance.now(), 'statements still run in a transaction of their own').toBeLessThan(
            deadline,
          );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const started = performance.now();
        expect(await codeOf(handle.db.execute(sql`select pg_sleep(3)`))).toBe('57014');
        expect(await codeOf(handle.db.execute(sql`select pg_sleep(${3})`))).toBe('57014');
        expect(performance.now() - started).toBeLessThan(5000);
        expect(warnings).toEqual([]);

        const unbounded = await freshDatabase();
        const wrapped = await openLogged(bouncer.url(unbounded), '300', handles);
        expect(await codeOf(wrapped.handle.db.execute(sql`select pg_sleep(3)`))).toBe('57014');
        expect(await codeOf(wrapped.handle.db.execute(sql`select pg_sleep(${3})`))).toBe('57014');
        expect(wrapped.warnings.join('\n')).toMatch(
          /statement_timeout is not set.*alter role <app role> set statement_timeout = 300/,
        );
      } finally {
        await direct.end();
      }
    });

    it('finds that PgBouncer 1.18 passes statement names through: hot queries stay unnamed, and the check leaves nothing prepared', async () => {
      const name = await freshDatabase();
      const { handle, warnings } = await openLogged(bouncer.url(name), '0', handles);
      // The check answered (a check that could not run also means unnamed, with a warning).
      expect(warnings).toEqual([]);
      expect(namesStatements(handle)).toBe(false);
      await runHotQuery(handle);
      // The check's own statement was removed from the server connection it reached.
      expect(await preparedOnServers(bouncer, name)).toEqual([]);
    });

    it('bounds each statement and each transaction by the statement timeout, and leaves it on no server connection', async () => {
      const name = await freshDatabase();
      const handle = await open({ DATABASE_URL: bouncer.url(name), DB_STATEMENT_TIMEOUT_MS: '300' });
      const started = performance.now();
      expect(await codeOf(handle.db.execute(sql`select pg_sleep(3)`))).toBe('57014');
      expect(await codeOf(handle.db.transaction((tx) => tx.execute(sql`select pg_sleep(3)`)))).toBe('57014');
      // With a parameter: sent in one round trip, inside its own transaction or the caller's.
      expect(await codeOf(handle.db.execute(sql`select pg_sleep(${3})`))).toBe('57014');
      expect(await codeOf(handle.db.transaction((tx) => tx.execute(sql`select pg_sleep(${3})`)))).toBe(
        '57014',
      );
      expect(performance.now() - started).toBeLessThan(5000);
      const [inside] = await executeRows<{ statement_timeout: string }>(handle.db, 'show statement_timeout');
      expect(inside?.statement_timeout).toBe('300ms');

      // A plain client on the same pooler, so on the server connections the handle used: the server's default.
      const direct = postgres(withDatabase(serverUrl!, name), { max: 1, onnotice: () => {} });
      const plain = postgres(urlAt(serverUrl!, bouncer.port, name), { max: 1, prepare: false });
      try {
        const [server] = await direct<{ statement_timeout: string }[]>`show statement_timeout`;
        for (let i = 0; i < 10; i++) {
          const [row] = await plain<{ statement_timeout: string }[]>`show statement_timeout`;
          expect(row?.statement_timeout).toBe(server?.statement_timeout);
        }
      } finally {
        await Promise.all([direct.end(), plain.end()]);
      }
    });

    it('reads and writes every kind of value through the pooler (unnamed, one round trip) as it does directly', async () => {
      const name = await freshDatabase();
      const direct = await open({ DATABASE_URL: withDatabase(serverUrl!, name) });
      // Each statement in a transaction of its own (no server-side timeout here), and with no timeout: as it is.
      const pooled = await open({ DATABASE_URL: bouncer.url(name) });
      const bare = await open({ DATABASE_URL: bouncer.url(name), DB_STATEMENT_TIMEOUT_MS: '0' });
      expect([namesStatements(pooled), namesStatements(bare)]).toEqual([false, false]);
      await direct.db.execute(sql.raw(KINDS_TABLE));
      await direct.db.insert(kinds).values([{ id: 1, ...FULL }, { id: 2 }]);
      await pooled.db.insert(kinds).values([{ id: 11, ...FULL }, { id: 12 }]);
      const empty = Object.fromEntries(Object.keys(FULL).map((key) => [key, null]));
      const expected = [FULL, empty];
      for (const handle of [direct, pooled, bare]) {
        for (const first of [1, 11]) {
          for (const rows of await readKinds(handle, first)) expect(rows).toEqual(expected);
        }
      }
    });

    it('refuses to take the migrations lock through the pooler, saying what to set; migrates over DIRECT_DATABASE_URL', async () => {
      const name = await freshDatabase();
      const pooled = await open({ DATABASE_URL: bouncer.url(name) });
      expect(pooled.pooledSessions).toBe(true);
      const refusal = await upgrade(pooled, notes.migrationsDir).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(MigrationError);
      expect((refusal as Error).message).toMatch(
        /transaction pooler.*advisory lock.*Set DIRECT_DATABASE_URL/s,
      );
      // DB_PREPARE=false says the same of an unmarked URL.
      const unprepared = await open({ DATABASE_URL: withDatabase(serverUrl!, name), DB_PREPARE: 'false' });
      await expect(upgrade(unprepared, notes.migrationsDir)).rejects.toThrow(/DIRECT_DATABASE_URL/);

      const split = await open({
        DATABASE_URL: bouncer.url(name),
        DIRECT_DATABASE_URL: withDatabase(serverUrl!, name),
      });
      expect(split.pooledSessions).toBe(false);
      const { steps } = await upgrade(split, notes.migrationsDir);
      expect(steps.length).toBeGreaterThan(0);
      // The app's own queries still go through the pooler.
      await split.db.insert(notes.schema.authors).values({ email: 'pooled@example.com' });
      expect(await split.db.select().from(notes.schema.authors)).toHaveLength(1);
    });

    it('runs the db commands over DIRECT_DATABASE_URL, and without it refuses to upgrade through the pooler', async () => {
      const name = await freshDatabase();
      const pooled = { DATABASE_URL: bouncer.url(name) };
      const refused = await cli(['db', 'upgrade'], { cwd: SHELF, env: pooled });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/transaction pooler.*Set DIRECT_DATABASE_URL/s);
      const env = { ...pooled, DIRECT_DATABASE_URL: withDatabase(serverUrl!, name) };
      ok(await cli(['db', 'upgrade'], { cwd: SHELF, env }));
      expect(ok(await cli(['db', 'current'], { cwd: SHELF, env })).stdout).toMatch(/\(head\)/);
      // check builds its shadow database over the direct URL too.
      ok(await cli(['db', 'check'], { cwd: SHELF, env }));
    }, 120_000);

    it('serves a 200-request burst to learnr (the CLI, through the pooler) with no error, on at most 5 server connections', async () => {
      const name = await freshDatabase();
      const app = await startServer({
        command: [
          process.execPath,
          '--import',
          join(REPO, 'scripts', 'run-sources.ts'),
          bin,
          'serve',
          'learnr',
          '--migrate',
        ],
        cwd: REPO,
        env: {
          DATABASE_URL: bouncer.url(name),
          DIRECT_DATABASE_URL: withDatabase(serverUrl!, name),
          NODE_ENV: 'development',
        },
      });
      try {
        const users = `${app.url}/api/v1/users`;
        const send = (url: string, method = 'GET', body?: object) =>
          fetch(url, {
            method,
            headers: body ? { 'content-type': 'application/json' } : {},
            body: body && JSON.stringify(body),
          });
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
          const created = await send(users, 'POST', {
            email: `burst${i}@example.com`,
            password: 'correct horse 1',
          });
          const body = (await created.json()) as { id: string };
          expect(created.status, JSON.stringify(body)).toBe(201);
          ids.push(body.id);
        }
        const burst = Array.from({ length: 200 }, (_, i) => {
          const id = ids[i % ids.length]!;
          if (i % 3 === 0) return send(`${users}/${id}`);
          if (i % 3 === 1) return send(`${users}/${id}`, 'PATCH', { daily_study_time: 30 + (i % 60) });
          return send(`${users}?limit=5`);
        });
        const statuses = await Promise.all(burst.map((response) => response.then((r) => r.status)));
        expect(statuses.filter((status) => status !== 200)).toEqual([]);

        const [pool] = (await bouncer.show('pools')).filter((row) => row.database === name);
        const servers = ['sv_active', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login'].reduce(
          (sum, key) => sum + Number(pool?.[key] ?? 0),
          0,
        );
        expect(servers).toBeGreaterThan(0);
        expect(servers).toBeLessThanOrEqual(5);
        // learnr's pool (15) holds more client connections than the pooler gives it server connections.
        expect(Number(pool?.cl_active)).toBeGreaterThan(servers);
      } finally {
        app.child.kill('SIGTERM');
        await app.exited;
      }
    }, 120_000);

    it('passes the learnr and rnd-cards API suites, every app database reached through the pooler', async () => {
      const transactions = async () =>
        Number((await bouncer.show('totals')).find((row) => row.name === 'total_xact_count')?.value);
      const before = await transactions();
      for (const [app, suite] of [
        ['learnr', 'test/users.test.ts'],
        ['rnd-cards', 'test/api.test.ts'],
      ] as const) {
        const { code, output } = await vitest(join(REPO, 'apps', app), suite, {
          TEST_DATABASE_URL: bouncer.url('postgres'),
          TEST_DIRECT_DATABASE_URL: serverUrl!,
        });
        expect(code, output).toBe(0);
        expect(output).toMatch(/Tests\s+\d+ passed/);
        expect(output).not.toMatch(/failed|Unhandled/i);
      }
      expect((await transactions()) - before).toBeGreaterThan(100);
    }, 900_000);
  },
);

describe.skipIf(newerSkipped !== undefined)(
  `PgBouncer >= 1.21 in transaction mode${newerSkipped ? ` (skipped: ${newerSkipped})` : ''}`,
  () => {
    const poolers: Pgbouncer[] = [];
    const databases: string[] = [];
    const handles: DatabaseHandle<any>[] = [];
    const bin = 'bin' in newer ? newer.bin : '';

    afterAll(async () => {
      await Promise.all(handles.map((handle) => handle.close()));
      for (const name of databases) await dropDatabase(serverUrl!, name);
      for (const pooler of poolers) await pooler.stop();
    });

    /** A pooler and a fresh database whose own statement_timeout (300 ms) bounds every statement. */
    async function through(maxPreparedStatements: number) {
      const bouncer = await startPgbouncer(serverUrl!, { bin, maxPreparedStatements });
      poolers.push(bouncer);
      const name = `gwt_pgbouncer_${randomBytes(6).toString('hex')}`;
      await ensureDatabase(serverUrl!, name);
      databases.push(name);
      const direct = postgres(withDatabase(serverUrl!, name), { max: 1, onnotice: () => {} });
      await direct.unsafe(`alter database "${name}" set statement_timeout = 300`);
      await direct.end();
      const { handle, warnings } = await openLogged(bouncer.url(name), '300', handles);
      // The check answered (one that could not run would say so, and mean unnamed).
      expect(warnings).toEqual([]);
      return { bouncer, name, handle };
    }

    it('uses named statements where the pooler keeps them (PGBOUNCER_<n> on every server connection), a slow one still cut off', async () => {
      const { bouncer, name, handle } = await through(100);
      expect(namesStatements(handle)).toBe(true);
      const text = await runHotQuery(handle);
      const prepared = await preparedOnServers(bouncer, name);
      expect(prepared.filter((row) => row.statement === text).length).toBeGreaterThan(0);
      for (const row of prepared) expect(row.name).toMatch(/^PGBOUNCER_\d+$/);

      const slow = prepareQuery(
        handle.db,
        'gw_slow',
        handle.db
          .select({ slept: sql<string>`pg_sleep(${sql.placeholder('seconds')}::float8)::text` })
          .from(items)
          .limit(1),
      );
      const started = performance.now();
      const code = await slow.execute({ seconds: 3 }).then(
        () => 'resolved',
        (error) => databaseErrorOf(error)?.code,
      );
      expect(code).toBe('57014');
      expect(performance.now() - started).toBeLessThan(2500);
    });

    it('stays unnamed where the pooler passes names through (max_prepared_statements = 0)', async () => {
      const { bouncer, name, handle } = await through(0);
      expect(namesStatements(handle)).toBe(false);
      await runHotQuery(handle);
      expect(await preparedOnServers(bouncer, name)).toEqual([]);
    });
  },
);

function vitest(cwd: string, file: string, env: RawEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [join(REPO, 'node_modules', 'vitest', 'vitest.mjs'), 'run', file], {
    cwd,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}
