import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import {
  COMMENTS,
  catalogDefinitions,
  compareCatalogs,
  OWN_RELATION,
  QUALIFIED,
} from '../migrations/catalog.ts';
import { type ShadowSource, withShadowDatabase } from '../migrations/shadow.ts';

/**
 * What schema.ts cannot say about a live database, as SQL kept by hand: comments, functions, triggers, and
 * whatever drizzle-kit wrote differently from the live definition (a view, an index, a constraint, a
 * column's default).
 */
export interface Unexpressed {
  /** Objects, as `check` names them, that the SQL below recreates (extensions are always made, not listed). */
  objects: string[];
  /** Run before schema.ts's statements: the live extensions, schemas, functions (defaults and CHECKs may call them). */
  before: string[];
  /** Run after: views, indexes, constraints, triggers, comments. */
  after: string[];
  /** Differences no statement here fixes: schema.ts must change, or the SQL be written by hand. */
  unresolved: string[];
}

const BEFORE_KINDS = new Set(['schema', 'function']);
/** Kinds whose live definition can replace what schema.ts made of them. */
const REPLACEABLE = new Set(['view', 'materialized view', 'index', 'constraint', 'trigger', 'comment']);

/**
 * Compares the live database with a scratch one built by `statements` (schema.ts's own SQL) and returns
 * the live definition of every object that differs, as statements.
 */
export async function unexpressedObjects(
  live: DatabaseHandle,
  shadow: ShadowSource,
  statements: string[],
): Promise<Unexpressed> {
  const { definitions, recreate } = await withSession(live, async (session) => ({
    definitions: await catalogDefinitions(session),
    recreate: await recreateStatements(session),
  }));
  // the live extensions first: schema.ts's defaults and types may use them
  const extensions = await extensionStatements(live);
  const built = await builtCatalog(shadow, [...extensions, ...statements]);
  const result: Unexpressed = { objects: [], before: [...extensions], after: [], unresolved: [] };
  // in the order the live database lists them: a view built on another comes after it
  const position = new Map([...recreate.keys()].map((key, index) => [key, index]));
  const differences = compareCatalogs(definitions, built).sort(
    (a, b) => (position.get(a.object) ?? -1) - (position.get(b.object) ?? -1),
  );
  for (const { object, live: liveDefinition, expected } of differences) {
    const kind = kindOf(object);
    const statement = recreate.get(object);
    if (liveDefinition === undefined || !statement) {
      result.unresolved.push(
        liveDefinition === undefined
          ? `${object}: schema.ts makes it, the live database has none`
          : `${object}: schema.ts gives ${show(expected)}, the live database has ${show(liveDefinition)}`,
      );
      continue;
    }
    // a column schema.ts lacks, or has of another type, is schema.ts's to fix; only its default is kept as SQL
    const replaceable =
      kind === 'column'
        ? expected !== undefined && withoutDefault(liveDefinition) === withoutDefault(expected)
        : expected === undefined || REPLACEABLE.has(kind);
    if (!replaceable) {
      result.unresolved.push(
        `${object}: schema.ts gives ${show(expected)}, the live database has ${show(liveDefinition)}`,
      );
      continue;
    }
    result.objects.push(object);
    const replaced = expected === undefined ? [] : dropStatements(kind, object, recreate);
    (BEFORE_KINDS.has(kind) ? result.before : result.after).push(...replaced, statement);
  }
  return result;
}

/** The catalog of a scratch database (see withShadowDatabase) after `statements`. */
export function builtCatalog(shadow: ShadowSource, statements: string[]): Promise<Map<string, string>> {
  return withShadowDatabase(shadow, (scratch) =>
    withSession(scratch, async (session) => {
      for (const statement of statements) await session.query(statement);
      return catalogDefinitions(session);
    }),
  );
}

/** The live database's extensions, as the statements that make them. */
export async function extensionStatements(live: DatabaseHandle): Promise<string[]> {
  const rows = await withSession(live, (session) =>
    session.query<{ statement: string }>(
      `select format('CREATE EXTENSION IF NOT EXISTS %I;', extname) as statement from pg_extension where extname <> 'plpgsql' order by extname`,
    ),
  );
  return rows.map((row) => row.statement);
}

/** A column's catalog definition without its default: `type not null`. */
const withoutDefault = (definition: string | undefined) => definition?.replace(/ default .*$/s, '');

const kindOf = (object: string) =>
  object.startsWith('materialized view ') ? 'materialized view' : object.split(' ')[0]!;
const show = (definition: string | undefined) =>
  definition ? `\`${definition.replace(/\s+/g, ' ').trim()}\`` : 'none';

/** Before an index or constraint is made again in its live form, the one schema.ts made goes. */
function dropStatements(kind: string, object: string, recreate: Map<string, string>): string[] {
  const drop = recreate.get(`drop ${object}`);
  return (kind === 'index' || kind === 'constraint') && drop ? [drop] : [];
}

/**
 * For each object `catalogDefinitions` lists, the statement that makes it as it is (keys as there); for
 * indexes and constraints also `drop <key>`. Views in creation order, so one built on another follows it.
 */
async function recreateStatements(session: SqlSession): Promise<Map<string, string>> {
  const rows = await session.query<{ key: string; statement: string }>(RECREATE);
  return new Map(rows.map((row) => [row.key, row.statement]));
}

const RECREATE = `
select 'schema ' || n.nspname as key, format('CREATE SCHEMA IF NOT EXISTS %I;', n.nspname) as statement from pg_namespace n
 where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'public') and n.nspname not like 'pg_%'
union all
(select case c.relkind when 'v' then 'view ' else 'materialized view ' end || ${QUALIFIED} || c.relname,
        format('CREATE OR REPLACE %s %I.%I AS %s', case c.relkind when 'v' then 'VIEW' else 'MATERIALIZED VIEW' end,
               n.nspname, c.relname, rtrim(pg_get_viewdef(c.oid, true), ';')) || ';'
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('v', 'm') and ${OWN_RELATION} order by c.oid)
union all
select 'constraint ' || ${QUALIFIED} || c.relname || '.' || k.conname,
       format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s;', n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid))
  from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
 where ${OWN_RELATION}
union all
select 'drop constraint ' || ${QUALIFIED} || c.relname || '.' || k.conname,
       format('ALTER TABLE %I.%I DROP CONSTRAINT %I;', n.nspname, c.relname, k.conname)
  from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
 where ${OWN_RELATION}
union all
select 'index ' || ${QUALIFIED} || i.relname, pg_get_indexdef(i.oid) || ';'
  from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
  join pg_namespace n on n.oid = c.relnamespace
 where ${OWN_RELATION}
union all
select 'drop index ' || ${QUALIFIED} || i.relname, format('DROP INDEX %I.%I;', n.nspname, i.relname)
  from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
  join pg_namespace n on n.oid = c.relnamespace
 where ${OWN_RELATION}
union all
select 'function ' || ${QUALIFIED} || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_functiondef(p.oid) || ';'
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where p.prokind in ('f', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
   and not exists (select 1 from pg_depend e where e.objid = p.oid and e.deptype = 'e')
union all
select 'column ' || ${QUALIFIED} || c.relname || '.' || a.attname,
       format('ALTER TABLE %I.%I ALTER COLUMN %I ', n.nspname, c.relname, a.attname)
         || coalesce('SET DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), 'DROP DEFAULT') || ';'
  from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
 where a.attnum > 0 and not a.attisdropped and a.attgenerated = '' and c.relkind in ('r', 'p') and ${OWN_RELATION}
union all
select 'trigger ' || ${QUALIFIED} || c.relname || '.' || g.tgname, pg_get_triggerdef(g.oid) || ';'
  from pg_trigger g join pg_class c on c.oid = g.tgrelid join pg_namespace n on n.oid = c.relnamespace
 where not g.tgisinternal and ${OWN_RELATION}
union all
select key, statement || ';' from (${COMMENTS}) comments`;
