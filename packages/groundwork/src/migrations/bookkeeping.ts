import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import type { Migration } from './folder.ts';

export const MIGRATIONS_TABLE = 'schema_migrations';
/** Like Rails' ar_internal_metadata: the environment the database was last migrated under. */
export const METADATA_TABLE = `${MIGRATIONS_TABLE}_metadata`;
/**
 * The rate-limit counters of apps on a server (auth/rate-limits.ts): the foundation's, created on first use
 * and outside every app's migrations, so schema checks leave it (and its index) out as they do bookkeeping.
 */
export const RATE_LIMITS_TABLE = 'groundwork_rate_limits';
/** One advisory lock key for every Groundwork migration command (locks are per database). */
export const LOCK_KEY = 7_101_971_523_114_007n;

/** One statement and its parameters: run as is, or written out with literals in an offline script. */
export interface Sql {
  text: string;
  params: unknown[];
}

/**
 * The bookkeeping tables, created on first use inside the first migration's transaction (so a failed first
 * upgrade leaves no trace). `down_checksum` came later: tables made before it get the column once, without
 * taking a lock on the table when it is already there. Rows without it (recorded before) are "legacy": their
 * `checksum` is the sha256 of up.sql alone, which is what `checksum` still is.
 */
const BOOKKEEPING_TABLES = `create table if not exists ${MIGRATIONS_TABLE} (id varchar(14) primary key, checksum char(64) not null, applied_at timestamptz not null default now(), execution_ms integer not null, down_checksum char(64));
create table if not exists ${METADATA_TABLE} (key text primary key, value text not null, updated_at timestamptz not null default now());
do $groundwork$ begin
  if not exists (select 1 from pg_attribute where attrelid = '${MIGRATIONS_TABLE}'::regclass and attname = 'down_checksum' and not attisdropped) then
    alter table ${MIGRATIONS_TABLE} add column down_checksum char(64);
  end if;
end $groundwork$`;

/**
 * What every migration commits with: the tables (when missing), the environment migrating now (the
 * production guard reads it), and the down.sql checksum of legacy rows (`legacyDowns`: id -> checksum).
 */
export function bookkeeping(
  environment: string,
  legacyDowns: ReadonlyMap<string, string> = new Map(),
): Sql[] {
  const statements: Sql[] = [
    { text: BOOKKEEPING_TABLES, params: [] },
    {
      text: `insert into ${METADATA_TABLE} (key, value) values ('environment', $1) on conflict (key) do update set value = excluded.value, updated_at = now()`,
      params: [environment],
    },
  ];
  if (legacyDowns.size > 0) {
    statements.push({
      text: `update ${MIGRATIONS_TABLE} m set down_checksum = v.value from json_each_text($1::json) v where m.id = v.key and m.down_checksum is null`,
      params: [JSON.stringify(Object.fromEntries(legacyDowns))],
    });
  }
  return statements;
}

export const recordApplied = (migration: Migration, ms: number): Sql => ({
  text: `insert into ${MIGRATIONS_TABLE} (id, checksum, down_checksum, execution_ms) values ($1, $2, $3, $4)`,
  params: [migration.id, migration.checksum, migration.downChecksum ?? null, ms],
});

/** A squashed migration goes with the rows of its originals, on a database that applied those. */
export const recordReverted = (migration: Migration): Sql =>
  migration.replaces.length === 0
    ? { text: `delete from ${MIGRATIONS_TABLE} where id = $1`, params: [migration.id] }
    : {
        text: `delete from ${MIGRATIONS_TABLE} where id in (select json_array_elements_text($1::json))`,
        params: [JSON.stringify([migration.id, ...migration.replaces.map(({ id }) => id)])],
      };

export async function execute(session: SqlSession, statements: Sql[]): Promise<void> {
  for (const { text, params } of statements) await session.query(text, params.length ? params : undefined);
}

/** A value as an SQL literal (standard_conforming_strings, on by default since PostgreSQL 9.1). */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return String(value);
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** The statement with its parameters written in as literals, for a script a person runs. */
export const inline = ({ text, params }: Sql): string =>
  text.replace(/\$(\d+)/g, (_, n: string) => sqlLiteral(params[Number(n) - 1]));

export interface AppliedRow {
  id: string;
  checksum: string;
  /** null on legacy rows and for migrations applied without a down.sql. */
  down_checksum: string | null;
  applied_at: string;
  execution_ms: number;
}

/** Reads down_checksum through to_jsonb, so a table made before the column existed reads as well. */
export const SELECT_APPLIED = `select id, checksum, to_jsonb(m) ->> 'down_checksum' as down_checksum, applied_at::text as applied_at, execution_ms from ${MIGRATIONS_TABLE} m order by id`;

/** Driver rows as AppliedRow (execution_ms may arrive as a string). */
export const toAppliedRows = (rows: AppliedRow[]): AppliedRow[] =>
  rows.map((row) => ({ ...row, execution_ms: Number(row.execution_ms) }));

export async function readApplied(session: SqlSession): Promise<AppliedRow[]> {
  if (!(await tableExists(session, MIGRATIONS_TABLE))) return [];
  return toAppliedRows(await session.query<AppliedRow>(SELECT_APPLIED));
}

async function tableExists(session: SqlSession, table: string): Promise<boolean> {
  const rows = await session.query<{ exists: boolean }>('select to_regclass($1) is not null as "exists"', [
    table,
  ]);
  return rows[0]?.exists === true;
}

/** The environment the database was last migrated under, or undefined when never recorded. */
export function recordedEnvironment(handle: DatabaseHandle): Promise<string | undefined> {
  return withSession(handle, async (session) => {
    if (!(await tableExists(session, METADATA_TABLE))) return undefined;
    const [row] = await session.query<{ value: string }>(
      `select value from ${METADATA_TABLE} where key = 'environment'`,
    );
    return row?.value;
  });
}
