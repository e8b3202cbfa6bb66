/**
 * The `groundwork db` CLI contract, run as real subprocesses (`node bin/groundwork.js db ...` in a copy of the
 * shelf fixture app, stdin closed): output, --json, exit codes, the advisory lock across processes and
 * SIGKILL in the middle of a migration. PGlite by default (each test its own DATA_DIR, shared by the
 * processes of that test); with TEST_DATABASE_URL each test gets its own scratch database on the server.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { upgrade } from '../src/migrations/runner.ts';
import {
  addMigration,
  appliedIds,
  cli,
  copyApp,
  databaseEnv,
  dataDir,
  dropLater,
  dropScratchDatabases,
  M1,
  M2,
  ok,
  openShelf,
  query,
  runMain,
  scratchDatabase,
  serverUrl,
  tableExists,
} from './support/harness.ts';

afterAll(dropScratchDatabases);

/** A fresh database for one test: a scratch server database, or an empty embedded data folder. */
async function freshDatabase(prefix = 'gwt_cli'): Promise<{ url?: string; dataDir?: string }> {
  if (!serverUrl) return { dataDir: await dataDir() };
  const scratch = await scratchDatabase(prefix);
  dropLater(scratch.drop);
  return { url: scratch.url };
}

/** A copy of the fixture app wired to its own fresh database; `run` invokes the CLI in its folder. */
async function setup(prefix?: string) {
  const app = copyApp();
  const where = await freshDatabase(prefix);
  const env = databaseEnv(where);
  return {
    app,
    where,
    migrations: join(app, 'migrations'),
    /** The real binary, as a subprocess. */
    run: (...args: string[]) => cli(args, { cwd: app, env }),
    /** The CLI's main() in this process (sequential tests only). */
    main: (...args: string[]) => runMain(args, { cwd: app, env }),
  };
}

const H = (n: number, slug: string) => `2099010100000${n}_${slug}`;
const idOf = (name: string) => name.slice(0, 14);
const line = (text: string) => new RegExp(`^${text}$`, 'm');
const TIMEOUT = 180_000;

const schemaWith = (body: string) =>
  `import { index, pgTable, serial, text, varchar } from 'drizzle-orm/pg-core';\n\n` +
  `export const books = pgTable(\n  'books',\n  {\n    id: serial('id').primaryKey(),\n    title: text('title').notNull(),\n${body}\n  },\n` +
  "  (t) => [index('books_author_idx').on(t.AUTHOR)],\n);\n";
const AUTHOR = "    author: varchar('author', { length: 200 }),";
const writeSchema = (app: string, body: string, indexed: string) =>
  writeFileSync(join(app, 'src', 'schema.ts'), schemaWith(body).replace('AUTHOR', indexed));

describe('groundwork db (main() in process: output, --json, exit codes)', () => {
  it(
    'upgrade/history/current/check/reset: a line per migration with its duration, a summary, --json, exit codes',
    async () => {
      const { migrations, main: run } = await setup();
      const shelves = H(2, 'shelves');
      // hand-written data migrations (a table outside schema.ts would be drift for `check`)
      addMigration(
        migrations,
        shelves,
        ["insert into books (title) values ('Shelved')"],
        ["delete from books where title = 'Shelved'"],
      );

      const up = ok(await run('db', 'upgrade', M2.id));
      expect(up.stdout).toMatch(line(`applied  ${M1.name}  \\(\\d+ ms\\)`));
      expect(up.stdout).toMatch(line(`applied  ${M2.name}  \\(\\d+ ms\\)`));
      expect(up.stdout).toMatch(line(`applied 2 migration\\(s\\) in \\d+ ms: base -> ${M2.id}`));

      const history = ok(await run('db', 'history'));
      expect(history.stdout).toMatch(line(`${M1.id}  applied  \\S+ \\S+  \\d+ ms  create books`));
      expect(history.stdout).toMatch(line(`${M2.id}  applied  \\S+ \\S+  \\d+ ms  add book author`));
      expect(history.stdout).toMatch(line(`${idOf(shelves)}  pending  shelves  \\(head\\)`));
      expect(JSON.parse(ok(await run('db', 'history', '--json')).stdout)).toMatchObject({
        ok: true,
        migrations: [
          { id: M1.id, status: 'applied' },
          { id: M2.id, status: 'applied' },
          { status: 'pending' },
        ],
      });
      // --html: a page with nothing to fetch; the longest migration's bar is the full width, the pending one none.
      const page = join(migrations, '..', 'history.html');
      expect(ok(await run('db', 'history', '--html', page)).stdout).toContain(`wrote ${page}`);
      const html = readFileSync(page, 'utf8');
      for (const id of [M1.id, M2.id, idOf(shelves)]) expect(html).toContain(`<code>${id}</code>`);
      expect(html).toContain('width:100.0%');
      expect(html).toMatch(/<li class="pending">.*not applied/);
      expect(html).not.toMatch(/<script|src=|href=|url\(/);

      const json = ok(await run('db', 'upgrade', '--json'));
      expect(JSON.parse(json.stdout)).toMatchObject({
        direction: 'up',
        from: M2.id,
        to: idOf(shelves),
        steps: [{ name: shelves, ms: expect.any(Number) }],
      });

      // a migration merged late, older than the applied head
      const late = addMigration(
        migrations,
        H(1, 'merged_late'),
        ["update books set author = 'anonymous' where author is null"],
        ["update books set author = null where author = 'anonymous'"],
      );
      const refused = await run('db', 'upgrade');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`error: Pending migration ${late} is older than the applied head`);
      const allowed = ok(await run('db', 'upgrade', '--allow-out-of-order'));
      expect(allowed.stdout).toMatch(line(`applied  ${H(1, 'merged_late')}  \\(\\d+ ms\\)`));

      expect(ok(await run('db', 'current')).stdout).toBe(`${shelves} (head)\n`);
      expect(ok(await run('db', 'check')).stdout).toBe('OK\n');

      const down = ok(await run('db', 'downgrade', '-1'));
      expect(down.stdout).toMatch(line(`reverted ${shelves}  \\(\\d+ ms\\)`));
      expect(down.stdout).toMatch(
        line(`reverted 1 migration\\(s\\) in \\d+ ms: ${idOf(shelves)} -> ${idOf(H(1, 'merged_late'))}`),
      );
      expect(ok(await run('db', 'current')).stdout).toBe(`${H(1, 'merged_late')} (1 pending)\n`);

      // reset: allowed outside production without flags (destructive-commands.test.ts has the guard)
      const reset = ok(await run('db', 'reset'));
      expect(reset.stdout).toMatch(line(`reverted ${H(1, 'merged_late')}  \\(\\d+ ms\\)`));
      expect(reset.stdout).toMatch(line(`reverted ${M1.name}  \\(\\d+ ms\\)`));
      expect(reset.stdout).toMatch(line(`applied 4 migration\\(s\\) in \\d+ ms: base -> ${idOf(shelves)}`));
    },
    TIMEOUT,
  );

  it(
    'upgrade --sql prints the SQL and records nothing; stamp records without running; current shows (head)',
    async () => {
      const { where, main: run } = await setup();
      const sql = ok(await run('db', 'upgrade', '--sql'));
      expect(sql.stdout).toMatch(/^-- groundwork db upgrade --sql: base -> /);
      expect(sql.stdout).toContain('create table if not exists schema_migrations');
      expect(sql.stdout).toContain('CREATE TABLE "books"');
      expect(sql.stdout).toContain(
        `insert into schema_migrations (id, checksum, down_checksum, execution_ms) values ('${M2.id}'`,
      );
      expect(sql.stdout).not.toContain('upgrading');

      // `from: null`: the --sql run recorded nothing
      const stamped = JSON.parse(ok(await run('db', 'stamp', 'head', '--json')).stdout);
      expect(stamped).toMatchObject({ from: null, to: M2.id, steps: [{ name: M1.name }, { name: M2.name }] });
      expect(ok(await run('db', 'current')).stdout).toBe(`${M2.name} (head)\n`);

      const handle = await openShelf(where);
      try {
        expect(await appliedIds(handle)).toEqual([M1.id, M2.id]);
        expect(await tableExists(handle, 'books')).toBe(false);
      } finally {
        await handle.close();
      }
    },
    TIMEOUT,
  );

  it(
    'check exits 1 naming each problem, and check --json stays one JSON document',
    async () => {
      const { app, where, migrations, main, run } = await setup();
      const handle = await openShelf(where);
      try {
        await upgrade(handle, migrations);
        await query(handle, 'alter table books alter column title type varchar(50)');
      } finally {
        await handle.close();
      }
      const edited = join(migrations, M1.name, 'up.sql');
      writeFileSync(edited, `${readFileSync(edited, 'utf8')}-- edited after it ran\n`);
      rmSync(join(migrations, M2.name, 'down.sql'));
      writeSchema(app, `${AUTHOR}\n    isbn: text('isbn'),`, 'author');

      const text = await main('db', 'check');
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(
        line(
          'FAIL uncaptured_schema_change: schema.ts has changes not captured in a migration: add column books.isbn.*',
        ),
      );
      expect(text.stdout).toMatch(line(`FAIL missing_down: ${join(migrations, M2.name)} has no down.sql.*`));
      expect(text.stdout).toMatch(line(`FAIL edited_migration: ${edited} was edited after it was applied.*`));
      expect(text.stdout).toMatch(
        line(
          'FAIL drift: column books.title differs: the live database has `character varying\\(50\\) not null`.*',
        ),
      );

      // under --json a real process's stdout is exactly one JSON document
      const json = await run('db', 'check', '--json');
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout);
      expect(report.ok).toBe(false);
      expect(new Set(report.problems.map((p: { kind: string }) => p.kind))).toEqual(
        new Set(['uncaptured_schema_change', 'missing_down', 'edited_migration', 'drift']),
      );
    },
    TIMEOUT,
  );
  it(
    'a deleted applied migration: check names it, current and history exit 1 naming it; lock flags are checked',
    async () => {
      const { migrations, main: run } = await setup();
      const shelves = H(1, 'shelves');
      addMigration(migrations, shelves, ['create table shelves (id integer)'], ['drop table shelves']);
      // it follows M2 in the graph, as `revision` writes it
      const snapshot = JSON.parse(readFileSync(join(migrations, M2.name, 'snapshot.json'), 'utf8'));
      writeFileSync(
        join(migrations, shelves, 'snapshot.json'),
        JSON.stringify(
          { ...snapshot, id: 'aaaaaaaa-0000-4000-8000-000000000002', prevId: snapshot.id },
          null,
          2,
        ),
      );
      const badFlag = await run('db', 'upgrade', '--lock-timeout', 'soon');
      expect(badFlag.code).toBe(2);
      expect(badFlag.stderr).toContain(
        '--lock-timeout must be a whole number of milliseconds from 0 to 600000, got "soon"',
      );
      ok(await run('db', 'upgrade', '--lock-timeout', '300', '--lock-retries', '1'));
      rmSync(join(migrations, M2.name), { recursive: true });

      const current = await run('db', 'current');
      expect(current.code).toBe(1);
      expect(current.stdout).toContain(
        `${shelves} (ahead of the folder): the database has 1 applied migration(s) that are not in ${migrations}: ${M2.id}`,
      );
      const currentJson = JSON.parse((await run('db', 'current', '--json')).stdout);
      expect(currentJson).toMatchObject({ ok: false, atHead: false, unknown: [M2.id] });

      const history = await run('db', 'history');
      expect(history.code).toBe(1);
      expect(history.stdout).toMatch(
        line(`${M2.id}  unknown  \\S+ \\S+  \\d+ ms  \\(not in ${migrations}\\)`),
      );
      expect(history.stderr).toContain(
        `WARNING: the database has 1 applied migration(s) that are not in ${migrations}`,
      );
      const historyJson = await run('db', 'history', '--json');
      expect(historyJson.code).toBe(1);
      expect(JSON.parse(historyJson.stdout)).toMatchObject({
        ok: false,
        command: 'db history',
        migrations: expect.arrayContaining([expect.objectContaining({ id: M2.id, status: 'unknown' })]),
      });

      const check = await run('db', 'check');
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        line(`FAIL missing_migration: a migration is missing from the folder: ${shelves} follows .*`),
      );
      expect(check.stdout).toMatch(
        line(
          `FAIL missing_migration: the database has 1 applied migration\\(s\\) that are not in .*: ${M2.id} .*`,
        ),
      );
      expect(check.stdout).not.toContain('multiple_heads');
    },
    TIMEOUT,
  );
});

describe.concurrent('groundwork db (subprocesses)', () => {
  it(
    'revision --autogenerate: summary, no-change, data-loss warning, --rename; never prompts, never 0 on error',
    async () => {
      const { app, migrations, run } = await setup();
      const folders = () => readdirSync(migrations).sort();

      writeSchema(app, `${AUTHOR}\n    isbn: text('isbn'),`, 'author');
      const created = ok(await run('db', 'revision', '-m', 'add isbn', '--autogenerate'));
      expect(created.stdout).toMatch(line('  add column books.isbn'));
      const dir = /^Created (\S+) \(review up\.sql and down\.sql\)$/m.exec(created.stdout)?.[1];
      expect(dir).toMatch(/\/\d{14}_add_isbn$/);
      expect(readdirSync(dir!).sort()).toEqual(['down.sql', 'snapshot.json', 'up.sql']);
      expect(readFileSync(join(dir!, 'down.sql'), 'utf8')).toContain(
        'ALTER TABLE "books" DROP COLUMN "isbn"',
      );
      expect(created.stderr).toBe('');

      const before = folders();
      const none = ok(await run('db', 'revision', '-m', 'again', '--autogenerate'));
      expect(none.stdout).toBe('No changes in schema: nothing written.\n');
      expect(folders()).toEqual(before);

      // author -> writer: drizzle-kit would prompt "rename or create?"; we never do (stdin is closed):
      // a drop + add, refused until allowed, or a real RENAME with --rename
      writeSchema(app, "    writer: varchar('writer', { length: 200 }),\n    isbn: text('isbn'),", 'writer');
      // side by side, writing nothing: a refusal (1) and usage errors (2)
      const [refused, badSpec, unknownColumn, noMode, badAllow] = await Promise.all([
        run('db', 'revision', '-m', 'writer', '--autogenerate'),
        run('db', 'revision', '-m', 'x', '--autogenerate', '--rename', 'books.author'),
        run('db', 'revision', '-m', 'x', '--autogenerate', '--rename', 'books.nope=writer'),
        run('db', 'revision', '-m', 'x'),
        run('db', 'revision', '-m', 'x', '--autogenerate', '--allow', 'ban-drop-column'),
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('refused: Nothing was written');
      expect(refused.stderr).toContain('ban-drop-column: ALTER TABLE "books" DROP COLUMN "author"');
      expect(refused.stderr).toContain('--allow ban-drop-column="<why it is safe here>"');
      expect(badSpec.code).toBe(2);
      expect(badSpec.stderr).toContain(
        'error: Invalid rename "books.author": expected old_table=new_table, table.old_column=new_column or enum:type.old_value=new_value',
      );
      expect(unknownColumn.code).toBe(2);
      expect(unknownColumn.stderr).toContain('column "nope" does not exist in the previous snapshot');
      expect(noMode).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('choose one: --autogenerate'),
      });
      expect(badAllow).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(
          'give the reason it is safe here: --allow ban-drop-column="<reason>"',
        ),
      });
      expect(folders()).toEqual(before);

      const lossy = ok(
        await run(
          'db',
          'revision',
          '-m',
          'writer',
          '--autogenerate',
          '--allow',
          'ban-drop-column=nothing reads author',
        ),
      );
      expect(lossy.stderr).toMatch(line('WARNING: data loss: drop column books.author'));
      expect(lossy.stderr).toContain('regenerate with --rename');
      expect(lossy.stderr).toMatch(
        line('allowed ban-drop-column: ALTER TABLE "books" DROP COLUMN "author" \\(nothing reads author\\)'),
      );
      // the transactional step, then the index on writer built concurrently in its own migration
      const [lossyDir, onlineDir, ...others] = folders().filter((f) => !before.includes(f));
      expect(others).toEqual([]);
      const lossyUp = readFileSync(join(migrations, lossyDir!, 'up.sql'), 'utf8');
      expect(lossyUp).toContain('-- groundwork:allow ban-drop-column nothing reads author\n');
      expect(lossyUp).toContain('DROP COLUMN "author"');
      expect(lossyUp).toContain('ADD COLUMN "writer"');
      expect(readFileSync(join(migrations, onlineDir!, 'up.sql'), 'utf8')).toContain(
        '-- groundwork:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "books_author_idx" ON "books" USING btree ("writer")',
      );
      for (const dir of [lossyDir!, onlineDir!]) rmSync(join(migrations, dir), { recursive: true });
      expect(folders()).toEqual(before);

      const renamed = ok(
        await run(
          'db',
          'revision',
          '-m',
          'rename author',
          '--autogenerate',
          '--rename',
          'books.author=writer',
          '--allow',
          'renaming-column=no release reads author yet',
        ),
      );
      expect(renamed.stdout).toMatch(line('  rename column books.author -> writer'));
      expect(renamed.stderr).toContain('allowed renaming-column: ALTER TABLE "books" RENAME COLUMN');
      const renameDir = folders().find((f) => !before.includes(f))!;
      const up = readFileSync(join(migrations, renameDir, 'up.sql'), 'utf8');
      const down = readFileSync(join(migrations, renameDir, 'down.sql'), 'utf8');
      expect(up).toContain('ALTER TABLE "books" RENAME COLUMN "author" TO "writer"');
      expect(down).toContain('ALTER TABLE "books" RENAME COLUMN "writer" TO "author"');
      expect(`${up}${down}`).not.toMatch(/DROP COLUMN|ADD COLUMN/);
    },
    TIMEOUT,
  );

  it(
    'exit codes: 2 for usage errors, 1 for a failing migration (naming file and statement)',
    async () => {
      const { migrations, run } = await setup();
      const failing = addMigration(migrations, H(1, 'broken'), [
        'create table broken (id integer)',
        'select 1 / 0',
      ]);
      const [unknown, noTarget, badFlag, failed] = await Promise.all([
        run('db', 'frobnicate'),
        run('db', 'downgrade'),
        run('db', 'upgrade', '--bogus'),
        run('db', 'upgrade', '--json'),
      ]);
      expect(unknown).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('unknown command "db frobnicate"'),
      });
      expect(noTarget).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('downgrade needs a target'),
      });
      expect(badFlag).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown option --bogus') });

      expect(failed.code).toBe(1);
      const message = `${join(failing, 'up.sql')}: statement 2 of 2 failed: division by zero`;
      expect(failed.stderr).toContain(message);
      expect(JSON.parse(failed.stdout)).toEqual({
        ok: false,
        command: 'db upgrade',
        error: expect.stringContaining(message),
      });
    },
    TIMEOUT,
  );

  it.skipIf(!serverUrl)(
    'advisory lock: 5 processes upgrading at once all exit 0 and apply each migration exactly once',
    async () => {
      const { migrations, where, run } = await setup();
      // CREATE TABLE without IF NOT EXISTS fails if run twice; the log counts how often the step ran
      addMigration(migrations, H(1, 'log_once'), [
        'create table upgrade_log (pid integer not null)',
        'insert into upgrade_log (pid) values (pg_backend_pid())',
        'select pg_sleep(3)',
      ]);
      const results = await Promise.all(Array.from({ length: 5 }, () => run('db', 'upgrade')));
      for (const result of results) ok(result);

      const output = results.map((r) => r.stdout).join('');
      for (const name of [M1.name, M2.name, H(1, 'log_once')]) {
        expect(output.match(new RegExp(`^applied  ${name} `, 'gm'))).toHaveLength(1);
      }
      // the runs really overlapped: the others waited for the lock
      expect(output).toContain('Waiting for another migration run to finish (advisory lock held)...');
      expect(output.match(/^Nothing to do: at \d{14}\.$/gm)).toHaveLength(4);

      const handle = await openShelf(where);
      try {
        expect(await appliedIds(handle)).toEqual([M1.id, M2.id, idOf(H(1, 'log_once'))]);
        expect(await query(handle, 'select count(*)::int as n from upgrade_log')).toEqual([{ n: 1 }]);
      } finally {
        await handle.close();
      }
    },
    TIMEOUT,
  );

  it(
    'SIGKILL in the middle of a migration leaves the last good revision; the next upgrade finishes',
    async () => {
      const { app, migrations, where } = await setup();
      const slow = H(1, 'slow_backfill');
      addMigration(
        migrations,
        slow,
        [
          'create table slow_rows (n integer not null)',
          'insert into slow_rows select g from generate_series(1, 100000) g',
          'select pg_sleep(3)',
        ],
        ['drop table slow_rows'],
      );
      const observer = where.url ? await openShelf(where) : undefined;
      let killing = false;
      const killed = await cli(['db', 'upgrade'], {
        cwd: app,
        env: databaseEnv(where),
        onStdout: (stdout, child) => {
          if (killing || !stdout.includes(`applied  ${M2.name}`)) return;
          killing = true;
          void (async () => {
            if (observer) {
              // kill once the server is inside the slow statement of the third migration
              for (let i = 0; i < 100; i++) {
                const rows = await query(
                  observer,
                  "select 1 from pg_stat_activity where datname = current_database() and query like 'select pg_sleep(3)%'",
                );
                if (rows.length) break;
                await new Promise((r) => setTimeout(r, 50));
              }
            } else {
              await new Promise((r) => setTimeout(r, 1000));
            }
            child.kill('SIGKILL');
          })();
        },
      });
      expect(killed.signal).toBe('SIGKILL');
      expect(killed.stdout).not.toContain(`applied  ${slow}`);

      const handle = observer ?? (await openShelf(where));
      try {
        expect(await appliedIds(handle)).toEqual([M1.id, M2.id]);
        expect(await tableExists(handle, 'slow_rows')).toBe(false);
      } finally {
        await handle.close();
      }

      const resumed = ok(await cli(['db', 'upgrade'], { cwd: app, env: databaseEnv(where) }));
      expect(resumed.stdout).toMatch(line(`applied  ${slow}  \\(\\d+ ms\\)`));
      expect(resumed.stdout).toMatch(
        line(`applied 1 migration\\(s\\) in \\d+ ms: ${M2.id} -> ${idOf(slow)}`),
      );
      if (where.url) {
        const after = await openShelf(where);
        try {
          expect(await query(after, 'select count(*)::int as n from slow_rows')).toEqual([{ n: 100000 }]);
        } finally {
          await after.close();
        }
      }
    },
    TIMEOUT,
  );
});
