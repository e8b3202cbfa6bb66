import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { executeRows } from '../database/rows.ts';
import { diffSnapshots, snapshotFromSchema, snapshotsEqual } from './diff.ts';
import { drizzleKit } from './drizzle-kit.ts';
import { latestSnapshot, readMigrations } from './folder.ts';
import { editedMigrations, MIGRATIONS_TABLE, readState } from './runner.ts';

export interface CheckProblem {
  kind: 'uncaptured_schema_change' | 'missing_down' | 'edited_migration' | 'pending_migrations' | 'drift';
  message: string;
}

/** Folder-only checks: schema.ts against the last snapshot, and every migration reversible or marked. */
export async function checkFolder(
  migrationsDir: string,
  schema: Record<string, unknown>,
): Promise<CheckProblem[]> {
  const problems: CheckProblem[] = [];
  const migrations = readMigrations(migrationsDir);
  const snapshot = latestSnapshot(migrations);
  const current = snapshotFromSchema(schema);
  if (!snapshotsEqual(snapshot, current)) {
    const { changes } = await diffSnapshots(snapshot, current);
    problems.push({
      kind: 'uncaptured_schema_change',
      message:
        `schema.ts has changes not captured in a migration: ${changes.join('; ') || 'snapshot differs'}. ` +
        'Run: revision -m "<message>" --autogenerate',
    });
  }
  for (const migration of migrations) {
    if (!migration.down) {
      problems.push({
        kind: 'missing_down',
        message: `${migration.dir} has no down.sql: write the reverse, or one starting "-- irreversible: <why>"`,
      });
    }
  }
  return problems;
}

/** Database checks: edited applied migrations, pending ones, and live schema drift from schema.ts. */
export async function checkDatabase(
  handle: DatabaseHandle<any>,
  migrationsDir: string,
  schema: Record<string, unknown>,
): Promise<CheckProblem[]> {
  const problems: CheckProblem[] = [];
  const state = await readState(handle, migrationsDir);
  for (const migration of editedMigrations(state)) {
    problems.push({
      kind: 'edited_migration',
      message: `${migration.up.file} was edited after it was applied (checksum differs): revert it and add a new migration`,
    });
  }
  if (state.pending.length > 0) {
    problems.push({
      kind: 'pending_migrations',
      message: `the database is not at head: ${state.pending.length} pending (${state.pending.map((m) => m.name).join(', ')}); run upgrade`,
    });
    return problems;
  }
  for (const statement of await liveDrift(handle, schema)) {
    problems.push({
      kind: 'drift',
      message: `the live database differs from schema.ts; it would need: ${statement}`,
    });
  }
  return problems;
}

const SET_DEFAULT = /^ALTER TABLE "([^"]+)"(?:\."([^"]+)")? ALTER COLUMN "([^"]+)" SET DEFAULT (.+);?$/s;

/**
 * drizzle-kit's push diff, minus its false positives: it reports jsonb and `sql` defaults as changed
 * even when PostgreSQL stores the same expression. Such a default is compared the way PostgreSQL sees it.
 */
async function liveDrift(handle: DatabaseHandle<any>, schema: Record<string, unknown>): Promise<string[]> {
  // drizzle-kit reads `.rows`, which only PGlite's driver returns.
  const adapter = { execute: async (query: any) => ({ rows: await executeRows(handle.db, query) }) };
  const { statementsToExecute } = await quietly(() =>
    drizzleKit().pushSchema(schema, adapter as never, undefined, [`!${MIGRATIONS_TABLE}`]),
  );
  const session = await handle.session();
  try {
    const unchanged = await unchangedUniqueConstraints(session, statementsToExecute);
    const real: string[] = [];
    for (const statement of statementsToExecute) {
      if (unchanged.has(statement.trim())) continue;
      const match = SET_DEFAULT.exec(statement.trim());
      if (match && (await sameDefault(session, match))) continue;
      real.push(statement);
    }
    return real;
  } finally {
    await session.release();
  }
}

async function sameDefault(session: SqlSession, match: RegExpExecArray): Promise<boolean> {
  const [, first, second, column, expression = ''] = match;
  const table = second ? `"${first}"."${second}"` : `"${first}"`;
  const [live] = await session.query<{ type: string; expr: string | null }>(
    `select format_type(a.atttypid, a.atttypmod) as type, pg_get_expr(d.adbin, d.adrelid) as expr
       from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = $1::regclass and a.attname = $2`,
    [table, column],
  );
  if (!live?.expr) return false;
  await session.query('begin');
  try {
    await session.query(
      `create temp table gw_default_probe (v ${live.type} default ${expression.replace(/;$/, '')}) on commit drop`,
    );
    const [probe] = await session.query<{ expr: string }>(
      `select pg_get_expr(adbin, adrelid) as expr from pg_attrdef where adrelid = 'gw_default_probe'::regclass`,
    );
    return probe?.expr === live.expr;
  } catch {
    return false;
  } finally {
    await session.query('rollback');
  }
}

const ADD_UNIQUE =
  /^ALTER TABLE "([^"]+)" ADD CONSTRAINT "([^"]+)" UNIQUE(?: NULLS NOT DISTINCT)?\s*\(([^)]+)\);?$/;

/**
 * drizzle-kit reads a multi-column UNIQUE constraint's columns back in no particular order and then proposes
 * to drop and re-add it. Such a pair is no drift when the live constraint has exactly the schema's columns,
 * in the schema's order (pg_constraint.conkey keeps the declared order).
 */
export async function unchangedUniqueConstraints(
  session: SqlSession,
  statements: string[],
): Promise<Set<string>> {
  const unchanged = new Set<string>();
  for (const statement of statements.map((s) => s.trim())) {
    const match = ADD_UNIQUE.exec(statement);
    if (!match) continue;
    const [, table = '', constraint = '', columnList = ''] = match;
    const drop = statements
      .map((s) => s.trim())
      .find((s) => s === `ALTER TABLE "${table}" DROP CONSTRAINT "${constraint}";`);
    if (!drop) continue;
    const wanted = columnList.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    const [live] = await session.query<{ columns: string[] }>(
      `select array(select a.attname::text from unnest(c.conkey) with ordinality k(attnum, n)
                      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.n) as columns
         from pg_constraint c where c.conrelid = $1::regclass and c.conname = $2 and c.contype = 'u'`,
      [`"${table}"`, constraint],
    );
    if (live && live.columns.join(',') === wanted.join(',')) {
      unchanged.add(statement);
      unchanged.add(drop);
    }
  }
  return unchanged;
}

/** drizzle-kit draws a spinner on stdout; keep stdout clean for --json. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stdout.write = write;
  }
}
