import type { SqlSession } from '../database/open.ts';

/**
 * `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] [name] ON [ONLY] table ...`, as the runner guards it.
 * A concurrent build that fails (duplicate keys, a lock timeout, a cancel) leaves its index behind marked
 * INVALID: never used by a query, yet maintained on every write, and IF NOT EXISTS then skips the rebuild.
 */
export interface ConcurrentIndexBuild {
  /** The index's name as PostgreSQL stores it (unquoted, or folded to lower case); undefined when unnamed. */
  name: string | undefined;
  /** The table as written in the statement (quoted or qualified as there), for to_regclass. */
  table: string;
  unique: boolean;
  ifNotExists: boolean;
}

const IDENTIFIER = '"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*';
const CONCURRENT_INDEX = new RegExp(
  String.raw`^create\s+(unique\s+)?index\s+concurrently\s+(if\s+not\s+exists\s+)?(?:(${IDENTIFIER})\s+)??on\s+(?:only\s+)?((?:${IDENTIFIER})(?:\s*\.\s*(?:${IDENTIFIER}))?)`,
  'i',
);

/** A statement's text without its leading comment lines (a migration's header sits on its first statement). */
const withoutLeadingComments = (statement: string) => statement.replace(/^(\s*--[^\n]*\n)*\s*/, '');

const identifierName = (identifier: string) =>
  identifier.startsWith('"') ? identifier.slice(1, -1).replace(/""/g, '"') : identifier.toLowerCase();

/**
 * The concurrent index build a statement is, or undefined for any other statement. The runner guards every
 * such statement in a no-transaction migration: it drops an INVALID index of the same name left on the table
 * by an earlier failed build before building (so IF NOT EXISTS cannot skip the build), and after a failed
 * build drops the INVALID index it left and reports it; the migration is then not recorded.
 */
export function parseConcurrentIndexBuild(statement: string): ConcurrentIndexBuild | undefined {
  const match = CONCURRENT_INDEX.exec(withoutLeadingComments(statement));
  if (!match) return undefined;
  return {
    name: match[3] === undefined ? undefined : identifierName(match[3]),
    table: match[4]!,
    unique: match[1] !== undefined,
    ifNotExists: match[2] !== undefined,
  };
}

/** An index marked INVALID (indisvalid false) that no build is filling right now. */
export interface InvalidIndex {
  schema: string;
  table: string;
  name: string;
  /** pg_get_indexdef. */
  definition: string;
}

const INVALID_INDEXES = `
select n.nspname as schema, t.relname as table, i.relname as name, pg_get_indexdef(i.oid) as definition
  from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
  join pg_namespace n on n.oid = i.relnamespace
 where not x.indisvalid
   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_temp%'
   and not exists (select 1 from pg_stat_progress_create_index p where p.index_relid = i.oid)`;

/** Every INVALID index of the database (outside the system schemas), or those of one table. */
export function invalidIndexes(session: SqlSession, table?: string): Promise<InvalidIndex[]> {
  return table === undefined
    ? session.query<InvalidIndex>(`${INVALID_INDEXES} order by 1, 2, 3`)
    : session.query<InvalidIndex>(`${INVALID_INDEXES} and x.indrelid = to_regclass($1) order by 1, 2, 3`, [
        table,
      ]);
}

/** The INVALID indexes a build left: its named index, or (unnamed) the table's that were not there before. */
export async function invalidIndexesLeftBy(
  session: SqlSession,
  build: ConcurrentIndexBuild,
  before: ReadonlySet<string> = new Set(),
): Promise<InvalidIndex[]> {
  const invalid = await invalidIndexes(session, build.table);
  return invalid.filter((index) =>
    build.name === undefined ? !before.has(index.name) : index.name === build.name,
  );
}

/** True when the build's named index exists on its table (IF NOT EXISTS also skips a name used elsewhere). */
export async function indexOnTable(session: SqlSession, build: ConcurrentIndexBuild): Promise<boolean> {
  const rows = await session.query(
    'select 1 from pg_index x join pg_class i on i.oid = x.indexrelid where x.indrelid = to_regclass($1) and i.relname = $2',
    [build.table, build.name],
  );
  return rows.length > 0;
}

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Drops an INVALID index without blocking the table's readers and writers. */
export const dropIndexStatement = (index: Pick<InvalidIndex, 'schema' | 'name'>) =>
  `drop index concurrently if exists ${quoteIdentifier(index.schema)}.${quoteIdentifier(index.name)}`;
