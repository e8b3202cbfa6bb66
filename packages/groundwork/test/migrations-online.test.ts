/**
 * Migrations on a live database: bounded lock waits with retries and the blocking session named, INVALID
 * indexes from failed concurrent builds, the offline script run through psql, and checksums over both
 * scripts. PGlite by default, or the server named by TEST_DATABASE_URL (a scratch database for the file).
 * What needs a second session holding a lock (PGlite has one connection) runs on the server only.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../src/database/open.ts';
import { withSession } from '../src/database/sessions.ts';
import { catalogDefinitions } from '../src/migrations/catalog.ts';
import { checkDatabase, checkFolder } from '../src/migrations/check.ts';
import { MigrationLockTimeoutError } from '../src/migrations/errors.ts';
import { parseConcurrentIndexBuild } from '../src/migrations/indexes.ts';
import {
  isLockTimeout,
  LockRetriesExhausted,
  retryDelayMs,
  withLockRetries,
} from '../src/migrations/locks.ts';
import { readState } from '../src/migrations/plan.ts';
import { downgrade, MigrationError, upgrade } from '../src/migrations/runner.ts';
import { testSettings } from '../src/testing/index.ts';
import {
  addMigration,
  appliedIds,
  copyApp,
  copyMigrations,
  databasePerFile,
  M1,
  M2,
  query,
  runMain,
  scratchDatabase,
  serverUrl,
  shelf,
  tableExists,
} from './support/harness.ts';

const shared = databasePerFile('gwt_online');

const H = (n: number, slug: string) => `2099010100000${n}_${slug}`;
const idOf = (name: string) => name.slice(0, 14);
/** Short waits, so a test that meets the lock timeout a few times stays well under a second or two. */
const FAST = { lockTimeoutMs: 200, lockRetries: 2, lockRetryDelayMs: 20 };
const onServer = serverUrl ? it : it.skip;
const SECOND_SESSION = 'needs a second session holding a lock: PGlite has a single connection';

/** The fixture at head with rows in books. */
async function shelfWithBooks(): Promise<string> {
  const dir = copyMigrations();
  await upgrade(shared.handle, dir);
  await query(
    shared.handle,
    "insert into books (title, author) values ('Dune', 'Herbert'), ('Emma', 'Austen')",
  );
  return dir;
}

/**
 * Another application's session, on its own connection, holding a transaction open after `statement` (as an
 * app that forgot to commit does).
 */
async function blocker(statement: string, url = shared.scratch!.url) {
  const sql = postgres(url, {
    max: 1,
    connection: { application_name: 'gw-test-blocker' },
    onnotice: () => {},
  });
  const reserved = await sql.reserve();
  const [row] = await reserved.unsafe<{ pid: number }[]>('select pg_backend_pid() as pid');
  await reserved.unsafe('begin');
  await reserved.unsafe(statement);
  let released = false;
  return {
    pid: row!.pid,
    async release() {
      if (released) return;
      released = true;
      await reserved.unsafe('commit');
      reserved.release();
      await sql.end();
    },
  };
}

describe('lock timeouts and retries', () => {
  it('retries on a lock timeout with growing, jittered waits, and gives up after the retries', async () => {
    // half to all of base * 2^(retry - 1), capped at 30 s
    expect([1, 2, 3, 4].map((retry) => retryDelayMs(retry, 500, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([1, 2, 3, 4].map((retry) => retryDelayMs(retry, 500, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(20, 500, () => 1)).toBe(30_000);

    const timeout = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
    let calls = 0;
    const retries: number[] = [];
    const exhausted = await withLockRetries(
      { lockRetries: 3, lockRetryDelayMs: 1 },
      async () => {
        calls++;
        throw timeout;
      },
      (retry) => retries.push(retry.retry),
    ).catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(LockRetriesExhausted);
    expect(exhausted).toMatchObject({ attempts: 4, last: timeout });
    expect(calls).toBe(4);
    expect(retries).toEqual([1, 2, 3]);
    expect(isLockTimeout(timeout)).toBe(true);

    // any other error is not retried; a success after a timeout reports its retries
    const other = new Error('division by zero');
    await expect(
      withLockRetries(
        { lockRetries: 3, lockRetryDelayMs: 1 },
        () => Promise.reject(other),
        () => {},
      ),
    ).rejects.toBe(other);
    let attempt = 0;
    const result = await withLockRetries(
      { lockRetries: 3, lockRetryDelayMs: 1 },
      async () => {
        if (attempt++ === 0) throw timeout;
        return 'done';
      },
      () => {},
    );
    expect(result).toEqual({ value: 'done', retries: 1 });
  });

  it('runs every migration under the lock and statement timeouts, and puts the session back after', async () => {
    const dir = copyMigrations();
    addMigration(
      dir,
      H(1, 'timeouts'),
      [
        'create table seen (lock_timeout text, statement_timeout text)',
        "insert into seen select current_setting('lock_timeout'), current_setting('statement_timeout')",
      ],
      ['drop table seen'],
    );
    await upgrade(shared.handle, dir, 'head', { lockTimeoutMs: 250, statementTimeoutMs: 60_000 });
    expect(await query(shared.handle, 'select * from seen')).toEqual([
      { lock_timeout: '250ms', statement_timeout: '1min' },
    ]);
    // the defaults: at most a second for a lock, no statement timeout
    await downgrade(shared.handle, dir, '-1');
    await upgrade(shared.handle, dir);
    expect(await query(shared.handle, 'select * from seen')).toEqual([
      { lock_timeout: '1s', statement_timeout: '0' },
    ]);
    if (shared.pglite) {
      // one connection: the app's own session must not keep the migration's timeouts
      expect(await query(shared.handle, "select current_setting('lock_timeout') as value")).toEqual([
        { value: '0' },
      ]);
    }
  });

  onServer(
    `gives up naming the blocking session, with nothing applied and the table readable meanwhile (${SECOND_SESSION})`,
    async () => {
      const dir = await shelfWithBooks();
      addMigration(dir, H(1, 'isbn'), [
        'alter table books add column isbn text',
        'create table shelves (id integer)',
      ]);
      const holder = await blocker("select * from books where title <> 'hunter2-not-for-logs' for share");
      const lines: string[] = [];
      try {
        // waits between attempts long enough that the run outlasts a reader queued behind its first attempt
        const migrating = upgrade(shared.handle, dir, 'head', {
          ...FAST,
          lockRetryDelayMs: 300,
          log: (line) => lines.push(line),
        });
        const settled = migrating.then(
          () => 'applied',
          () => 'failed',
        );
        // A reader queued behind the waiting ALTER waits at most one lock timeout, not the whole run.
        const reader = await query<{ n: number }>(shared.handle, 'select count(*)::int as n from books');
        expect(reader).toEqual([{ n: 2 }]);
        expect(await Promise.race([settled, Promise.resolve('still retrying')])).toBe('still retrying');

        const error = (await migrating.catch((e: unknown) => e)) as MigrationLockTimeoutError;
        expect(error).toBeInstanceOf(MigrationLockTimeoutError);
        expect(error.attempts).toBe(3);
        expect(error.blockers).toEqual([
          {
            pid: holder.pid,
            applicationName: 'gw-test-blocker',
            state: 'idle in transaction',
            transactionMs: expect.any(Number),
            query: "select * from books where title <> '***' for share",
          },
        ]);
        expect(error.message).toContain(
          `${join(dir, H(1, 'isbn'), 'up.sql')}: statement 1 of 2 could not take its lock`,
        );
        expect(error.message).toContain('canceling statement due to lock timeout');
        expect(error.message).toMatch(
          new RegExp(
            `pid ${holder.pid} \\(application_name "gw-test-blocker", idle in transaction, transaction open \\d+\\.\\d s\\)`,
          ),
        );
        expect(error.message).toContain(
          `Rolled back: the database is still at the revision before ${idOf(H(1, 'isbn'))} (${M2.id})`,
        );
        expect(error.message).not.toContain('hunter2');
        expect(lines.filter((line) => line.startsWith('lock timeout (200 ms)'))).toHaveLength(2);
        expect(lines.join('\n')).toContain(
          `held by pid ${holder.pid} ("gw-test-blocker", idle in transaction)`,
        );
      } finally {
        await holder.release();
      }
      expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
      expect(await tableExists(shared.handle, 'shelves')).toBe(false);
      expect(await query(shared.handle, 'select title from books order by id')).toEqual([
        { title: 'Dune' },
        { title: 'Emma' },
      ]);
      // once the blocker is gone the same upgrade goes through
      expect((await upgrade(shared.handle, dir, 'head', FAST)).steps).toMatchObject([
        { name: H(1, 'isbn'), retries: 0 },
      ]);
    },
  );

  onServer(`succeeds when the blocker lets go during the retries (${SECOND_SESSION})`, async () => {
    const dir = await shelfWithBooks();
    addMigration(dir, H(1, 'isbn'), ['alter table books add column isbn text']);
    const holder = await blocker('select * from books for update');
    try {
      const result = await upgrade(shared.handle, dir, 'head', {
        ...FAST,
        lockRetries: 10,
        // the blocking transaction commits after the first lock timeout
        log: (line) => {
          if (line.startsWith('lock timeout')) void holder.release();
        },
      });
      expect(result.steps).toMatchObject([{ name: H(1, 'isbn'), retries: 1 }]);
    } finally {
      await holder.release();
    }
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'isbn'))]);
    expect(await query(shared.handle, 'select title, isbn from books order by id')).toEqual([
      { title: 'Dune', isbn: null },
      { title: 'Emma', isbn: null },
    ]);
  });

  onServer(
    `a no-transaction migration retries only the statement that timed out (${SECOND_SESSION})`,
    async () => {
      const dir = await shelfWithBooks();
      await query(shared.handle, 'create table audit (n integer)');
      const path = addMigration(dir, H(1, 'no_tx'), [
        '-- groundwork:no-transaction\ninsert into audit values (1)',
        'alter table books add column isbn text',
      ]);
      let holder = await blocker('select * from books for share');
      const error = (await upgrade(shared.handle, dir, 'head', FAST).catch((e: unknown) => e)) as Error;
      await holder.release();
      expect(error).toBeInstanceOf(MigrationLockTimeoutError);
      expect(error.message).toContain(`${join(path, 'up.sql')}: statement 2 of 2 could not take its lock`);
      expect(error.message).toContain(
        `statement 1 stays applied, and the migration is not recorded, so the database is still at the revision before ${idOf(H(1, 'no_tx'))}`,
      );
      expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
      expect(await query(shared.handle, 'select n from audit')).toEqual([{ n: 1 }]);

      // statement 1 is not idempotent: rerun with it removed, and the blocker letting go after a timeout
      writeFileSync(
        join(path, 'up.sql'),
        '-- groundwork:no-transaction\nalter table books add column isbn text\n',
      );
      holder = await blocker('select * from books for share');
      try {
        const result = await upgrade(shared.handle, dir, 'head', {
          ...FAST,
          log: (line) => {
            if (line.startsWith('lock timeout')) void holder.release();
          },
        });
        expect(result.steps).toMatchObject([{ retries: 1 }]);
      } finally {
        await holder.release();
      }
      expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'no_tx'))]);
    },
  );

  onServer(
    `downgrade gives up the same way and leaves the migration applied (${SECOND_SESSION})`,
    async () => {
      const dir = await shelfWithBooks();
      const holder = await blocker('select * from books for share');
      try {
        const error = (await downgrade(shared.handle, dir, '-1', FAST).catch(
          (e: unknown) => e,
        )) as MigrationLockTimeoutError;
        expect(error).toBeInstanceOf(MigrationLockTimeoutError);
        expect(error.blockers.map((b) => b.pid)).toEqual([holder.pid]);
        expect(error.message).toContain(
          `${join(dir, M2.name, 'down.sql')}: statement 1 of 2 could not take its lock`,
        );
        expect(error.message).toContain(`Rolled back: the database is still at ${M2.id}.`);
      } finally {
        await holder.release();
      }
      expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
      expect(await query(shared.handle, 'select author from books order by id')).toEqual([
        { author: 'Herbert' },
        { author: 'Austen' },
      ]);
    },
  );
  onServer(
    `reset (the CLI, with --lock-timeout) gives up before reverting anything (${SECOND_SESSION})`,
    async () => {
      const app = copyApp();
      const dir = join(app, 'migrations');
      await upgrade(shared.handle, dir);
      await query(shared.handle, "insert into books (title, author) values ('Dune', 'Herbert')");
      const holder = await blocker('select * from books for share');
      try {
        const reset = await runMain(['db', 'reset', '--lock-timeout', '150', '--lock-retries', '1'], {
          cwd: app,
          env: { DATABASE_URL: shared.scratch!.url, MIGRATION_LOCK_RETRY_DELAY_MS: '20' },
        });
        expect(reset.code).toBe(1);
        expect(reset.stdout).toContain(`reverting ${M2.name} ...`);
        expect(reset.stdout).toMatch(
          /^lock timeout \(150 ms\) on .* statement 1, held by pid \d+ \("gw-test-blocker", idle in transaction\); retry 1 of 1 in 0\.\d s$/m,
        );
        expect(reset.stderr).toContain('could not take its lock within lock_timeout 150 ms in 2 attempts');
        expect(reset.stderr).toContain(
          `pid ${holder.pid} (application_name "gw-test-blocker", idle in transaction`,
        );
        expect(reset.stderr).toContain(`Rolled back: the database is still at ${M2.id}.`);
      } finally {
        await holder.release();
      }
      expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);
      expect(await query(shared.handle, 'select title, author from books')).toEqual([
        { title: 'Dune', author: 'Herbert' },
      ]);
    },
  );
});

describe('invalid indexes', () => {
  const uniqueTitle = (dir: string) =>
    addMigration(
      dir,
      H(1, 'unique_title'),
      [
        '-- groundwork:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "books_title_key" ON "books" ("title")',
      ],
      ['-- groundwork:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS "books_title_key"'],
    );
  const indexes = () =>
    query<{ name: string; valid: boolean }>(
      shared.handle,
      `select i.relname as name, x.indisvalid as valid from pg_index x join pg_class i on i.oid = x.indexrelid
        where x.indrelid = 'books'::regclass and i.relname = 'books_title_key'`,
    );

  it('a failed concurrent build is reported, its INVALID index dropped, and the migration not recorded', async () => {
    const dir = await shelfWithBooks();
    await query(shared.handle, "insert into books (title) values ('Dune')");
    const path = uniqueTitle(dir);

    const error = (await upgrade(shared.handle, dir).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain(
      `${join(path, 'up.sql')}: statement 1 of 1 failed: could not create unique index "books_title_key"`,
    );
    expect(error.message).toContain('DETAIL: Key (title)=(Dune) is duplicated.');
    expect(error.message).toContain('The failed build left index books_title_key INVALID');
    expect(error.message).toContain('it was dropped.');
    expect(await indexes()).toEqual([]);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);

    // a leftover INVALID index (a crash before the cleanup, a build run by hand): IF NOT EXISTS would skip
    // the build and "apply"; the runner drops it and builds, which fails again on the same duplicates
    await query(shared.handle, 'create unique index concurrently books_title_key on books (title)').catch(
      () => {},
    );
    expect(await indexes()).toEqual([{ name: 'books_title_key', valid: false }]);
    const lines: string[] = [];
    await expect(upgrade(shared.handle, dir, 'head', { log: (line) => lines.push(line) })).rejects.toThrow(
      'is duplicated',
    );
    expect(lines).toContain(
      'dropping INVALID index books_title_key, left by an earlier failed build, to build it again',
    );
    expect(await indexes()).toEqual([]);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id]);

    // the duplicates fixed, and a leftover again: dropped, built, valid, recorded; and reversible
    await query(shared.handle, 'create unique index concurrently books_title_key on books (title)').catch(
      () => {},
    );
    await query(
      shared.handle,
      "delete from books where id = (select max(id) from books where title = 'Dune')",
    );
    await upgrade(shared.handle, dir);
    expect(await indexes()).toEqual([{ name: 'books_title_key', valid: true }]);
    expect(await appliedIds(shared.handle)).toEqual([M1.id, M2.id, idOf(H(1, 'unique_title'))]);
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
    await downgrade(shared.handle, dir, '-1');
    expect(await indexes()).toEqual([]);
  });

  it('check fails on an INVALID index, naming it', async () => {
    const dir = await shelfWithBooks();
    await query(shared.handle, "insert into books (title) values ('Dune')");
    await query(shared.handle, 'create unique index concurrently books_title_key on books (title)').catch(
      () => {},
    );
    const problems = await checkDatabase(shared.handle, dir, shared.shadow);
    expect(problems.map((p) => p.kind)).toContain('invalid_index');
    expect(problems.find((p) => p.kind === 'invalid_index')!.message).toContain(
      'index public.books_title_key on books is INVALID',
    );
  });

  it('recognises the concurrent builds it guards', () => {
    expect(
      parseConcurrentIndexBuild(
        '-- groundwork:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Books_Key" ON ONLY "public"."books" ("title")',
      ),
    ).toEqual({ name: 'Books_Key', table: '"public"."books"', unique: true, ifNotExists: true });
    expect(parseConcurrentIndexBuild('create index concurrently books_on_idx on books (title)')).toEqual({
      name: 'books_on_idx',
      table: 'books',
      unique: false,
      ifNotExists: false,
    });
    expect(parseConcurrentIndexBuild('create index concurrently on books (title)')).toMatchObject({
      name: undefined,
    });
    expect(parseConcurrentIndexBuild('create index books_idx on books (title)')).toBeUndefined();
  });
});

describe('offline --sql', () => {
  const psql = (file: string, url: string) =>
    spawnSync('psql', ['-X', '-q', '-f', file, url], {
      encoding: 'utf8',
      env: { ...process.env, PGOPTIONS: '' },
    });

  /** Definitions of every object, and the bookkeeping rows: what `upgrade` leaves behind. */
  async function stateOf(target: DatabaseHandle) {
    const rows = await query(
      target,
      'select id, checksum, down_checksum, execution_ms from schema_migrations order by id',
    );
    const environment = await query(target, 'select key, value from schema_migrations_metadata');
    const definitions = await withSession(target, (session) => catalogDefinitions(session));
    return {
      rows: rows.map((row) => ({ ...row, execution_ms: 0 })),
      environment,
      definitions: [...definitions],
    };
  }

  it('writes the advisory lock, the timeouts, the environment row and every bookkeeping row', async () => {
    const dir = copyMigrations();
    const { sql } = await upgrade(shared.handle, dir, 'head', {
      sql: true,
      lockTimeoutMs: 300,
      environment: 'production',
    });
    expect(sql).toMatch(/^\\set ON_ERROR_STOP on$/m);
    expect(sql).toContain("set lock_timeout = '300ms';");
    expect(sql).toContain("set statement_timeout = '0ms';");
    expect(sql!.indexOf('select pg_advisory_lock(7101971523114007);')).toBeLessThan(
      sql!.indexOf('set lock_timeout'),
    );
    expect(sql!.trimEnd().endsWith('select pg_advisory_unlock(7101971523114007);')).toBe(true);
    expect(sql).toContain(
      "insert into schema_migrations_metadata (key, value) values ('environment', 'production') on conflict",
    );
    expect(sql).toContain('create table if not exists schema_migrations (');
    // the plan was read, nothing was written
    expect(await tableExists(shared.handle, 'schema_migrations')).toBe(false);
  });

  onServer(
    'runs through psql on a fresh database and leaves what upgrade leaves, down to base too (psql, a server)',
    async () => {
      expect(
        spawnSync('psql', ['--version']).status,
        'psql is missing: apt-get install postgresql-client',
      ).toBe(0);
      const dir = copyMigrations();
      addMigration(
        dir,
        H(1, 'title_index'),
        [
          '-- groundwork:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "books_title_idx" ON "books" ("title")',
        ],
        ['-- groundwork:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS "books_title_idx"'],
      );
      const offline = await scratchDatabase('gwt_offline');
      const other = await openDatabase(testSettings(shelf, {}, offline.url), { schema: shelf.schema });
      const file = join(tmpdir(), `gw-offline-${process.pid}.sql`);
      try {
        writeFileSync(file, (await upgrade(other, dir, 'head', { sql: true, environment: 'test' })).sql!);
        const ran = psql(file, offline.url);
        expect(ran.stderr).toBe('');
        expect(ran.status).toBe(0);
        await upgrade(shared.handle, dir, 'head', { environment: 'test' });
        expect(await stateOf(other)).toEqual(await stateOf(shared.handle));
        expect((await readState(other, dir)).pending).toEqual([]);
        expect(await checkDatabase(other, dir, { settings: testSettings(shelf, {}, offline.url) })).toEqual(
          [],
        );

        // a lock timeout stops the script where it is: nothing after it runs, nothing half-applied
        writeFileSync(file, (await downgrade(other, dir, 'base', { sql: true, lockTimeoutMs: 150 })).sql!);
        const holder = await blocker('select * from books for share', offline.url);
        const blocked = psql(file, offline.url);
        await holder.release();
        expect(blocked.status).toBe(3);
        expect(blocked.stderr).toContain('canceling statement due to lock timeout');
        expect(await appliedIds(other)).toEqual([M1.id, M2.id, idOf(H(1, 'title_index'))]);

        // (the bookkeeping tables exist by now: psql shows CREATE TABLE IF NOT EXISTS's notices)
        const down = psql(file, offline.url);
        expect(down.stderr).not.toContain('ERROR');
        expect(down.status).toBe(0);
        expect(await appliedIds(other)).toEqual([]);
        expect(await withSession(other, (session) => catalogDefinitions(session))).toEqual(
          new Map([['schema public', '']]),
        );
      } finally {
        rmSync(file, { force: true });
        await other.close();
        await offline.drop();
      }
    },
  );
});

describe('checksums of both scripts', () => {
  it('check names an applied down.sql edited since; a downgrade runs it and says so', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir);
    const down = join(dir, M2.name, 'down.sql');
    appendFileSync(down, '-- an edit after it ran\n');
    const problems = await checkDatabase(shared.handle, dir, shared.shadow);
    expect(problems).toEqual([
      {
        kind: 'edited_migration',
        message: expect.stringContaining(`${down} was edited after its migration was applied`),
      },
    ]);
    // upgrade does not run down.sql and is not refused; downgrade runs it as it is and warns
    expect((await upgrade(shared.handle, dir)).steps).toEqual([]);
    const lines: string[] = [];
    await downgrade(shared.handle, dir, '-1', { log: (line) => lines.push(line) });
    expect(lines).toContain(`warning: ${down} changed since ${M2.id} was applied; it runs as it is now`);
  });

  it('lint annotations are not edits: -- groundwork:allow lines are outside the checksums', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir);
    for (const file of ['up.sql', 'down.sql']) {
      const path = join(dir, M2.name, file);
      writeFileSync(path, `-- groundwork:allow some-rule the table is tiny\n${readFileSync(path, 'utf8')}`);
    }
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
    expect((await upgrade(shared.handle, dir)).steps).toEqual([]);
  });

  it('rows recorded before down.sql had a checksum keep working, and get one with the next migration', async () => {
    const dir = copyMigrations();
    await upgrade(shared.handle, dir);
    // a bookkeeping table from before: no down_checksum column; checksum is the sha256 of up.sql alone
    await query(shared.handle, 'alter table schema_migrations drop column down_checksum');
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
    const down = join(dir, M1.name, 'down.sql');
    appendFileSync(down, '-- edited, unseen: nothing recorded to compare with\n');
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
    writeFileSync(down, readFileSync(join(copyMigrations(), M1.name, 'down.sql')));

    addMigration(dir, H(1, 'shelves'), ['create table shelves (id integer)'], ['drop table shelves']);
    await upgrade(shared.handle, dir);
    expect(
      await query(shared.handle, 'select id from schema_migrations where down_checksum is null'),
    ).toEqual([]);
    appendFileSync(down, '-- edited now: caught\n');
    expect((await checkDatabase(shared.handle, dir, shared.shadow)).map((p) => p.message)).toEqual([
      expect.stringContaining(`${down} was edited after its migration was applied`),
    ]);
  });
});

describe('a deleted migration folder', () => {
  it('is named by check, refused by upgrade, and not mistaken for a second head', async () => {
    const dir = copyMigrations();
    addMigration(dir, H(1, 'shelves'), ['create table shelves (id integer)'], ['drop table shelves']);
    // a third migration that follows M2 in the graph, as revision writes it
    const snapshot = JSON.parse(readFileSync(join(dir, M2.name, 'snapshot.json'), 'utf8'));
    writeFileSync(
      join(dir, H(1, 'shelves'), 'snapshot.json'),
      `${JSON.stringify({ ...snapshot, id: 'aaaaaaaa-0000-4000-8000-000000000001', prevId: snapshot.id }, null, 2)}\n`,
    );
    await upgrade(shared.handle, dir);
    rmSync(join(dir, M2.name), { recursive: true });

    const folder = await checkFolder(dir, shelf.schema);
    expect(folder.map((p) => p.kind)).toContain('missing_migration');
    expect(folder.map((p) => p.kind)).not.toContain('multiple_heads');
    expect(folder.find((p) => p.kind === 'missing_migration')!.message).toContain(
      `a migration is missing from the folder: ${H(1, 'shelves')} follows a snapshot no migration in the folder has`,
    );
    const database = await checkDatabase(shared.handle, dir, shared.shadow);
    expect(database).toEqual([
      {
        kind: 'missing_migration',
        message: expect.stringContaining(
          `the database has 1 applied migration(s) that are not in ${dir}: ${M2.id}`,
        ),
      },
    ]);
    await expect(upgrade(shared.handle, dir)).rejects.toThrow(
      `Nothing was run: the database has 1 applied migration(s) that are not in ${dir}: ${M2.id}`,
    );
  });
});
