/**
 * Adopting a database Alembic made (issue 31): a real Alembic project (test/support/alembic: a SQLAlchemy
 * model with an enum, a composite key, a partial index, a view, comments and three revisions) is applied with
 * `alembic upgrade head`, then `db pull` + `db baseline` take it over. Needs the server (TEST_DATABASE_URL)
 * and Debian's python3-alembic, python3-sqlalchemy and python3-psycopg2 (installed by .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ALEMBIC_REVISION_KEY } from '../src/adopt/baseline.ts';
import { type DatabaseHandle, openDatabase } from '../src/database/open.ts';
import { readMigrations } from '../src/migrations/folder.ts';
import { testSettings } from '../src/testing/index.ts';
import {
  cli,
  copyApp,
  ok,
  query,
  removeTempFolders,
  type ScratchDatabase,
  scratchDatabase,
  serverUrl,
  shelf,
} from './support/harness.ts';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const ALEMBIC_PROJECT = join(import.meta.dirname, 'support', 'alembic');
const PYTHON = '/usr/bin/python3';

/** Why the test cannot run here, or undefined when it can. */
function missing(): string | undefined {
  if (!serverUrl) return 'needs the server: set TEST_DATABASE_URL';
  const probe = spawnSync(PYTHON, ['-c', 'import alembic, sqlalchemy, psycopg2'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return 'needs Debian python3-alembic, python3-sqlalchemy and python3-psycopg2 (.ci/run installs them)';
  return undefined;
}
const skipReason = missing();

function alembic(url: string, ...args: string[]): string {
  const result = spawnSync(
    PYTHON,
    [
      '-m',
      'alembic',
      '-c',
      join(ALEMBIC_PROJECT, 'alembic.ini'),
      '-x',
      `url=${url.replace(/^postgres:/, 'postgresql:')}`,
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
  );
  if (result.status !== 0) throw new Error(`alembic ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** The columns Alembic made (a column added later is left out, so a downgrade is compared on these). */
const TABLES = {
  projects: 'id, name, status, created_at, budget',
  members: 'project_id, user_email, role',
};

/** md5 of each table's rows, in a fixed order: equal before and after means no row changed. */
async function rowDigests(handle: DatabaseHandle): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const [table, columns] of Object.entries(TABLES)) {
    const [row] = await query<{ md5: string }>(
      handle,
      `select md5(string_agg(t::text, '|' order by t::text)) as md5 from (select ${columns} from ${table}) t`,
    );
    digests[table] = row!.md5;
  }
  return digests;
}

describe.skipIf(skipReason)('adopting a database Alembic built, through the CLI', () => {
  let live: ScratchDatabase;
  let fresh: ScratchDatabase;
  let handle: DatabaseHandle;
  let appDir: string;
  let before: Record<string, string>;
  const groundwork = (url: string, ...args: string[]) =>
    cli(args, { cwd: appDir, env: { DATABASE_URL: url } });

  beforeAll(async () => {
    live = await scratchDatabase('gwt_alembic');
    fresh = await scratchDatabase('gwt_alembic_fresh');
    alembic(live.url, 'upgrade', 'head');
    handle = await openDatabase(testSettings(shelf, {}, live.url), { schema: {} });
    // rows written after the last revision, as a running service would
    await query(handle, "insert into projects (name, budget) values ('Field trial', 80)");
    await query(handle, "insert into members (project_id, user_email) values (3, 'cy@lab.example')");
    before = await rowDigests(handle);
    // an app made for the service (here the shelf fixture), whose own schema and migrations go
    appDir = copyApp();
    rmSync(join(appDir, 'migrations'), { recursive: true });
  });

  afterAll(async () => {
    await handle?.close();
    await live?.drop();
    await fresh?.drop();
    removeTempFolders();
  });

  it('pull writes a schema.ts, baseline records it as applied, and check passes on the live database', async () => {
    expect(alembic(live.url, 'current')).toContain('c3d4e5f6a1b2 (head)');
    const pull = ok(await groundwork(live.url, 'db', 'pull', '--force'));
    expect(pull.stdout).toMatch(
      /keeps them as SQL in the baseline migration:\n {2}comment table projects\n {2}comment column projects\.name\n/,
    );
    const pulled = readFileSync(join(appDir, 'src', 'schema.ts'), 'utf8');
    expect(pulled).toContain(`pgEnum("project_status", ['draft', 'active', 'archived'])`);
    expect(pulled).toContain('primaryKey({ columns: [table.projectId, table.userEmail]');
    expect(pulled).toMatch(
      /index\("projects_active_name"\)[^\n]*\.where\(sql`\(status = 'active'::project_status\)`\)/,
    );
    expect(pulled).toContain('pgView("active_projects"');
    expect(pulled).not.toContain('alembic_version');

    const baseline = ok(await groundwork(live.url, 'db', 'baseline'));
    expect(baseline.stdout).toContain('replaces Alembic revision c3d4e5f6a1b2');
    const [migration] = readMigrations(join(appDir, 'migrations'));
    expect(migration!.irreversible).toMatch(/drop every table/);
    expect(migration!.up.text).toContain('Replaces Alembic revision c3d4e5f6a1b2');
    expect(migration!.up.text).toContain(`COMMENT ON TABLE public.projects IS 'Every project the lab runs';`);
    // recorded without running: the rows and Alembic's table are as they were
    expect(await rowDigests(handle)).toEqual(before);
    expect(await query(handle, 'select version_num from alembic_version')).toEqual([
      { version_num: 'c3d4e5f6a1b2' },
    ]);
    expect(
      await query(handle, 'select value from schema_migrations_metadata where key = $1', [
        ALEMBIC_REVISION_KEY,
      ]),
    ).toEqual([{ value: 'c3d4e5f6a1b2' }]);
    expect(ok(await groundwork(live.url, 'db', 'check')).stdout.trim()).toBe('OK');
    // a second baseline is refused: the history has begun
    const again = await groundwork(live.url, 'db', 'baseline');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has 1 migration\(s\): a baseline starts a history/);
  });

  it('a fresh database built from the folder passes check too', async () => {
    ok(await groundwork(fresh.url, 'db', 'upgrade'));
    expect(ok(await groundwork(fresh.url, 'db', 'check')).stdout.trim()).toBe('OK');
  });

  it('an added column autogenerates from the baseline, upgrades and downgrades, and no row changes', async () => {
    const schemaFile = join(appDir, 'src', 'schema.ts');
    const text = readFileSync(schemaFile, 'utf8');
    writeFileSync(
      schemaFile,
      text.replace('export const projects = pgTable("projects", {', '$&\n\tnote: text(),'),
    );
    const revision = ok(await groundwork(live.url, 'db', 'revision', '-m', 'add note', '--autogenerate'));
    expect(revision.stdout).toMatch(/note/);
    const [, added] = readMigrations(join(appDir, 'migrations'));
    expect(added!.up.text).toMatch(/ADD COLUMN "note" text;/);

    ok(await groundwork(live.url, 'db', 'upgrade'));
    expect(ok(await groundwork(live.url, 'db', 'check')).stdout.trim()).toBe('OK');
    ok(await groundwork(live.url, 'db', 'downgrade', '-1'));
    expect(
      await query(
        handle,
        "select 1 from information_schema.columns where table_name = 'projects' and column_name = 'note'",
      ),
    ).toEqual([]);
    expect(await rowDigests(handle)).toEqual(before);
    // the baseline itself refuses to go down, with its reason
    const down = await groundwork(live.url, 'db', 'downgrade', 'base');
    expect(down.code).toBe(1);
    expect(`${down.stdout}${down.stderr}`).toMatch(/drop every table/);
  });
});
