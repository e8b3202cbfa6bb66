import type { DrizzleSnapshotJSON } from 'drizzle-kit/api';
import { drizzleKit } from './drizzle-kit.ts';

/**
 * drizzle-kit's PostgreSQL snapshot JSON (version 7), as written to `snapshot.json`: typed in the parts this
 * module reads and rewrites (tables, columns, indexes, keys, checks, policies, enums); the rest passes through.
 */
export interface Snapshot extends SnapshotSchema {
  id: string;
  prevId?: string;
  /** A merge revision's parents. */
  prevIds?: string[];
}

/** A snapshot's schema without its identity (id, prevId, prevIds), as merged from branch heads. */
export interface SnapshotSchema {
  tables: Record<string, SnapshotTable>;
  enums: Record<string, { name: string; schema: string; values: string[] }>;
  schemas: Record<string, unknown>;
  sequences: Record<string, unknown>;
  roles: Record<string, unknown>;
  policies: Record<string, unknown>;
  views: Record<string, unknown>;
  [other: string]: unknown;
}

export interface SnapshotTable {
  name: string;
  schema: string;
  columns: Record<string, SnapshotColumn>;
  indexes: Record<string, SnapshotIndex>;
  foreignKeys: Record<string, SnapshotForeignKey>;
  compositePrimaryKeys: Record<string, SnapshotKey>;
  uniqueConstraints: Record<string, SnapshotKey>;
  checkConstraints: Record<string, SnapshotCheck>;
  policies: Record<string, SnapshotPolicy>;
  [other: string]: unknown;
}

interface SnapshotColumn {
  name: string;
  type: string;
  /** The identity's sequence, named after table and column. */
  identity?: { name: string; schema?: string; [other: string]: unknown };
  [other: string]: unknown;
}

interface SnapshotIndex {
  name: string;
  columns: { expression: string; isExpression: boolean; [other: string]: unknown }[];
  where?: string;
  [other: string]: unknown;
}

interface SnapshotForeignKey {
  name: string;
  tableFrom: string;
  tableTo: string;
  schemaTo?: string;
  columnsFrom: string[];
  columnsTo: string[];
  [other: string]: unknown;
}

/** A unique constraint or a composite primary key. */
interface SnapshotKey {
  name: string;
  columns: string[];
  [other: string]: unknown;
}

interface SnapshotCheck {
  name: string;
  value: string;
}

interface SnapshotPolicy {
  name: string;
  using?: string;
  withCheck?: string;
  [other: string]: unknown;
}

/** A --rename that cannot be: it does not parse, or names what the schemas do not have (a usage error). */
export class RenameError extends Error {
  override name = 'RenameError';
}

export type Rename =
  | { kind: 'table'; from: string; to: string }
  | { kind: 'column'; table: string; from: string; to: string };

export interface DiffResult {
  statements: string[];
  /** One human line per statement. */
  changes: string[];
  /** One line per statement that can destroy or narrow data. */
  dataLoss: string[];
}

type TableRename = Extract<Rename, { kind: 'table' }>;
type ColumnRename = Extract<Rename, { kind: 'column' }>;

const ORIGIN_ID = '00000000-0000-0000-0000-000000000000';

/**
 * The snapshot of an empty schema (drizzle-kit's `generateDrizzleJson({})`, written out so reading migrations
 * never loads drizzle-kit); fixed ids so a fresh project's first migration is reproducible.
 */
export const emptySnapshot = (): Snapshot => ({
  version: '7',
  dialect: 'postgresql',
  tables: {},
  enums: {},
  schemas: {},
  sequences: {},
  roles: {},
  policies: {},
  views: {},
  _meta: { schemas: {}, tables: {}, columns: {} },
  id: ORIGIN_ID,
  prevId: ORIGIN_ID,
});

/** Snapshot of a schema module (the exports of schema.ts); `id` is random, `prevId` the origin id. */
export function snapshotFromSchema(schemaModule: Record<string, unknown>): Snapshot {
  return drizzleKit().generateDrizzleJson(schemaModule) as unknown as Snapshot;
}

/** True when both snapshots describe the same schema (ignores id, prevId(s), _meta and key order). */
export function snapshotsEqual(a: Snapshot, b: Snapshot): boolean {
  const { id: _a, prevId: _pa, prevIds: _psa, _meta: _ma, ...restA } = a;
  const { id: _b, prevId: _pb, prevIds: _psb, _meta: _mb, ...restB } = b;
  return sameJson(restA, restB);
}

const NAME = /^[^\s."=]+$/;

/** Parses `old_table=new_table` or `table.old_column=new_column`. */
export function parseRename(spec: string): Rename {
  const usage = `Invalid rename "${spec}": expected old_table=new_table or table.old_column=new_column`;
  const sides = spec.split('=').map((side) => side.trim());
  if (sides.length !== 2) throw new RenameError(usage);
  const [left = '', to = ''] = sides;
  if (to.includes('.')) throw new RenameError(`${usage} (the new name is bare: users.name=full_name)`);
  const path = left.split('.');
  if (!NAME.test(to) || !path.every((part) => NAME.test(part))) throw new RenameError(usage);
  if (path.length > 2) throw new RenameError(`${usage} (schema-qualified names are not supported)`);
  const [table = '', column] = path;
  if ((column ?? table) === to)
    throw new RenameError(`Invalid rename "${spec}": old and new names are the same`);
  return column === undefined
    ? { kind: 'table', from: table, to }
    : { kind: 'column', table, from: column, to };
}

/** The rename that undoes `r`, for the down migration. */
export function reverseRename(r: Rename): Rename {
  return { ...r, from: r.to, to: r.from };
}

/**
 * SQL turning the `from` schema into `to`, without ever prompting. drizzle-kit asks "rename or create?"
 * whenever one diff both deletes and creates items of a kind in one scope, so the diff runs in phases that
 * each only delete or only create:
 *   1. drop indexes, constraints, policies and views that change or reference something removed;
 *   2. drop removed tables and columns;
 *   3. create and alter everything, keeping removed enums/sequences/roles/schemas (columns may still use them);
 *   4. drop those.
 * Renames are only what `options.renames` says; anything else removed and added is a DROP + ADD.
 */
export async function diffSnapshots(
  from: Snapshot,
  to: Snapshot,
  options: { renames?: Rename[] } = {},
): Promise<DiffResult> {
  const renamed = applyRenames(from, to, options.renames ?? []);
  const dependentsDropped = withoutChangedDependents(renamed.snapshot, to);
  const removedDropped = withoutRemovedTablesAndColumns(dependentsDropped, to);
  const allCreated = withDeferredDrops(to, removedDropped);
  const statements = [
    ...renamed.statements,
    ...(await migrate(renamed.snapshot, dependentsDropped)),
    // drizzle also disables RLS on every dropped table (a no-op before DROP TABLE); nothing else in this
    // phase touches RLS, so these are all noise.
    ...(await migrate(dependentsDropped, removedDropped)).filter(
      (s) => !s.endsWith('DISABLE ROW LEVEL SECURITY;'),
    ),
    ...(await migrate(removedDropped, allCreated)),
    ...(await migrate(allCreated, to)),
  ];
  const described = statements.map((statement) => {
    const description = describe(statement);
    return description.loss && widens(statement, renamed.snapshot)
      ? { ...description, loss: false }
      : description;
  });
  return {
    statements,
    changes: described.map((d) => d.change),
    dataLoss: described.filter((d) => d.loss).map((d) => d.change),
  };
}

async function migrate(a: Snapshot, b: Snapshot): Promise<string[]> {
  const statements = await drizzleKit().generateMigration(a as DrizzleSnapshotJSON, b as DrizzleSnapshotJSON);
  const fixed = statements.flatMap((s) => withSequenceAfterRows(withoutCascade(fixDropPrimaryKey(s.trim()))));
  // the primary key must go before a new one is added in the same phase
  return [...fixed.filter(isDropPrimaryKey), ...fixed.filter((s) => !isDropPrimaryKey(s))];
}

const DROP_TABLE_CASCADE = /^(DROP TABLE .+) CASCADE;$/s;

/**
 * drizzle-kit drops a table with CASCADE, which silently takes hand-written views and other tables' FKs with
 * it. Without it PostgreSQL refuses and names the dependent object; the managed dependents (FKs, indexes,
 * views from schema.ts) are dropped explicitly in an earlier phase.
 */
const withoutCascade = (statement: string) => statement.replace(DROP_TABLE_CASCADE, '$1;');

const ADD_IDENTITY =
  /^ALTER TABLE ((?:"[^"]+"\.)?"[^"]+") ALTER COLUMN "([^"]+)" ADD GENERATED .* AS IDENTITY/s;

/**
 * An identity added to a populated column starts at 1 and the next insert collides with an existing key:
 * move its sequence past the column's maximum (a no-op on an empty table).
 */
function withSequenceAfterRows(statement: string): string[] {
  const match = ADD_IDENTITY.exec(statement);
  if (!match) return [statement];
  const [, table = '', column = ''] = match;
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  return [
    statement,
    `SELECT setval(pg_get_serial_sequence(${literal(table)}, ${literal(column)}), max("${column}")) FROM ${table} HAVING max("${column}") IS NOT NULL;`,
  ];
}

const DROP_PK = /^DO \$\$ DECLARE pk text;/;
const isDropPrimaryKey = (statement: string) => DROP_PK.test(statement);

/** drizzle-kit emits only a comment for dropping a column-level primary key (it does not know its name). */
function fixDropPrimaryKey(statement: string): string {
  if (!statement.includes("can't automatically get name for primary key")) return statement;
  const m = /table_schema = '([^']*)'[\s\S]*?table_name = '([^']*)'/.exec(statement);
  if (!m) return statement;
  const table = `"${m[1]}"."${m[2]}"`;
  return (
    `DO $$ DECLARE pk text; BEGIN SELECT conname INTO pk FROM pg_constraint WHERE conrelid = '${table}'::regclass ` +
    `AND contype = 'p'; EXECUTE format('ALTER TABLE ${table} DROP CONSTRAINT %I', pk); END $$;`
  );
}

// ---- phases ----

const DEPENDENTS = [
  'indexes',
  'foreignKeys',
  'uniqueConstraints',
  'compositePrimaryKeys',
  'checkConstraints',
  'policies',
] as const;
const DEFERRED = ['enums', 'sequences', 'roles', 'schemas'] as const;

/**
 * Keeps only the indexes, constraints, policies and views identical in `to`. Dropping the others first means
 * PostgreSQL never drops them implicitly (DROP COLUMN, DROP TABLE ... CASCADE) before drizzle drops them
 * explicitly, which fails (drizzle-kit alone emits DROP TABLE CASCADE before dropping FKs that point at it).
 */
function withoutChangedDependents(snapshot: Snapshot, to: Snapshot): Snapshot {
  const mid = structuredClone(snapshot);
  for (const [key, table] of Object.entries(mid.tables)) {
    const target = to.tables[key];
    if (!target) {
      // its own dependents go with the table, except FKs to another removed table: without CASCADE that
      // table could not be dropped first
      table.foreignKeys = pick(table.foreignKeys ?? {}, (name) => {
        const fk = table.foreignKeys[name]!;
        const pointsAtRemoved = !(tableKey(fk.schemaTo, fk.tableTo) in to.tables);
        return !pointsAtRemoved || tableKey(fk.schemaTo, fk.tableTo) === key;
      });
      continue;
    }
    for (const kind of DEPENDENTS) keepIdenticalIn(table, target, kind);
  }
  mid.policies = keepIdentical(mid.policies, to.policies);
  mid.views = keepIdentical(mid.views, to.views);
  return mid;
}

function withoutRemovedTablesAndColumns(snapshot: Snapshot, to: Snapshot): Snapshot {
  const mid = structuredClone(snapshot);
  mid.tables = pick(mid.tables, (key) => key in to.tables);
  for (const [key, table] of Object.entries(mid.tables)) {
    table.columns = pick(table.columns, (name) => name in to.tables[key]!.columns);
  }
  return mid;
}

/** `to` plus the enums, sequences, roles and schemas that only `snapshot` has: they are dropped last. */
function withDeferredDrops(to: Snapshot, snapshot: Snapshot): Snapshot {
  const mid = structuredClone(to);
  for (const kind of DEFERRED) keepDeferred(mid, snapshot, kind);
  return mid;
}

function keepDeferred<K extends (typeof DEFERRED)[number]>(mid: Snapshot, snapshot: Snapshot, kind: K): void {
  mid[kind] = { ...structuredClone(snapshot[kind] ?? {}), ...mid[kind] };
}

function keepIdenticalIn<K extends (typeof DEPENDENTS)[number]>(
  table: SnapshotTable,
  target: SnapshotTable,
  kind: K,
): void {
  table[kind] = keepIdentical(table[kind], target[kind]);
}

function keepIdentical<R extends Record<string, unknown>>(items: R = {} as R, target: R = {} as R): R {
  return pick(items, (key) => key in target && sameJson(items[key], target[key]));
}

function pick<R extends Record<string, unknown>>(items: R, keep: (key: string) => boolean): R {
  return Object.fromEntries(Object.entries(items).filter(([key]) => keep(key))) as R;
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

// ---- renames ----

const schemaOf = (schema: string | undefined) => schema || 'public';
const tableKey = (schema: string | undefined, name: string) => `${schemaOf(schema)}.${name}`;
const quoted = (schema: string | undefined, name: string) =>
  schema && schema !== 'public' ? `"${schema}"."${name}"` : `"${name}"`;
const pointsAt = (fk: SnapshotForeignKey, schema: string | undefined, name: string) =>
  fk.tableTo === name && schemaOf(fk.schemaTo) === schemaOf(schema);

/**
 * Applies the renames to a copy of `from`, so that drizzle sees the renamed items as unchanged. Column renames
 * go first (on the old table name); their table may be named by its old or its new name, which keeps the
 * reversed list valid for the down migration.
 */
function applyRenames(from: Snapshot, to: Snapshot, renames: Rename[]) {
  const snapshot = structuredClone(from);
  const statements: string[] = [];
  const touched = new Set<string>();
  const tableRenames = renames.filter((r): r is TableRename => r.kind === 'table');
  for (const r of renames)
    if (r.kind === 'column') renameColumn(snapshot, to, r, tableRenames, statements, touched);
  for (const r of tableRenames) renameTable(snapshot, to, r, statements, touched);
  followDerivedNames(snapshot, to, touched, statements);
  return { snapshot, statements };
}

function findTable(snapshot: Snapshot, name: string, action: string): string | undefined {
  const keys = Object.keys(snapshot.tables).filter((key) => snapshot.tables[key]!.name === name);
  if (keys.length > 1) {
    throw new RenameError(`Cannot ${action}: table "${name}" exists in several schemas (${keys.join(', ')})`);
  }
  return keys[0];
}

function renameColumn(
  snapshot: Snapshot,
  to: Snapshot,
  r: ColumnRename,
  tableRenames: TableRename[],
  statements: string[],
  touched: Set<string>,
) {
  const action = `rename column ${r.table}.${r.from} to ${r.to}`;
  const alias = tableRenames.find((t) => t.to === r.table)?.from;
  const key =
    findTable(snapshot, r.table, action) ?? (alias ? findTable(snapshot, alias, action) : undefined);
  if (!key)
    throw new RenameError(`Cannot ${action}: table "${r.table}" does not exist in the previous snapshot`);
  const table = snapshot.tables[key]!;
  if (!table.columns[r.from]) {
    throw new RenameError(`Cannot ${action}: column "${r.from}" does not exist in the previous snapshot`);
  }
  if (table.columns[r.to]) throw new RenameError(`Cannot ${action}: column "${r.to}" already exists`);
  const finalName = tableRenames.find((t) => t.from === table.name)?.to ?? table.name;
  if (!to.tables[tableKey(table.schema, finalName)]?.columns[r.to]) {
    throw new RenameError(`Cannot ${action}: column "${finalName}.${r.to}" does not exist in the new schema`);
  }

  statements.push(`ALTER TABLE ${quoted(table.schema, table.name)} RENAME COLUMN "${r.from}" TO "${r.to}";`);
  table.columns = renameKey(table.columns, r.from, r.to);
  table.columns[r.to]!.name = r.to;
  const column = (name: string) => (name === r.from ? r.to : name);
  // SQL text (checks, expression indexes, policies) names columns as quoted identifiers
  const sqlText = (text: string) => text.replaceAll(`"${r.from}"`, `"${r.to}"`);
  for (const index of Object.values(table.indexes)) {
    for (const c of index.columns)
      c.expression = c.isExpression ? sqlText(c.expression) : column(c.expression);
    if (index.where) index.where = sqlText(index.where);
  }
  for (const kind of ['uniqueConstraints', 'compositePrimaryKeys'] as const) {
    for (const constraint of Object.values(table[kind])) constraint.columns = constraint.columns.map(column);
  }
  for (const fk of Object.values(table.foreignKeys)) fk.columnsFrom = fk.columnsFrom.map(column);
  for (const check of Object.values(table.checkConstraints)) check.value = sqlText(check.value);
  for (const policy of Object.values(table.policies)) {
    if (policy.using) policy.using = sqlText(policy.using);
    if (policy.withCheck) policy.withCheck = sqlText(policy.withCheck);
  }
  for (const [otherKey, other] of Object.entries(snapshot.tables)) {
    for (const fk of Object.values(other.foreignKeys)) {
      if (!pointsAt(fk, table.schema, table.name)) continue;
      fk.columnsTo = fk.columnsTo.map(column);
      touched.add(otherKey);
    }
  }
  touched.add(key);
}

function renameTable(
  snapshot: Snapshot,
  to: Snapshot,
  r: TableRename,
  statements: string[],
  touched: Set<string>,
) {
  const action = `rename table ${r.from} to ${r.to}`;
  const key = findTable(snapshot, r.from, action);
  if (!key)
    throw new RenameError(`Cannot ${action}: table "${r.from}" does not exist in the previous snapshot`);
  const table = snapshot.tables[key]!;
  const newKey = tableKey(table.schema, r.to);
  if (snapshot.tables[newKey]) throw new RenameError(`Cannot ${action}: table "${r.to}" already exists`);
  if (!to.tables[newKey]) {
    throw new RenameError(`Cannot ${action}: table "${newKey}" does not exist in the new schema`);
  }

  statements.push(`ALTER TABLE ${quoted(table.schema, r.from)} RENAME TO "${r.to}";`);
  for (const [otherKey, other] of Object.entries(snapshot.tables)) {
    for (const fk of Object.values(other.foreignKeys)) {
      if (!pointsAt(fk, table.schema, r.from)) continue;
      fk.tableTo = r.to;
      touched.add(otherKey);
    }
  }
  table.name = r.to;
  for (const fk of Object.values(table.foreignKeys)) fk.tableFrom = r.to;
  // checks and index predicates qualify columns with the table name
  const sqlText = (text: string) => text.replaceAll(`"${r.from}".`, `"${r.to}".`);
  for (const index of Object.values(table.indexes)) {
    for (const c of index.columns) if (c.isExpression) c.expression = sqlText(c.expression);
    if (index.where) index.where = sqlText(index.where);
  }
  for (const check of Object.values(table.checkConstraints)) check.value = sqlText(check.value);
  snapshot.tables = renameKey(snapshot.tables, key, newKey);
  touched.delete(key);
  touched.add(newKey);
}

const NAMED = [
  'indexes',
  'foreignKeys',
  'uniqueConstraints',
  'compositePrimaryKeys',
  'checkConstraints',
] as const;

/**
 * Default names embed table and column names (`posts_user_id_users_id_fk`, `users_id_seq`): in the tables a
 * rename touched, an item identical but for its name is renamed too, instead of dropped and re-created.
 */
function followDerivedNames(snapshot: Snapshot, to: Snapshot, touched: Set<string>, statements: string[]) {
  for (const key of touched) {
    const table = snapshot.tables[key];
    const target = to.tables[key];
    if (!table || !target) continue;
    for (const [name, column] of Object.entries(table.columns)) {
      const seq = column.identity;
      const targetSeq = target.columns[name]?.identity;
      if (
        !seq ||
        !targetSeq ||
        seq.name === targetSeq.name ||
        !sameJson({ ...seq, name: '' }, { ...targetSeq, name: '' })
      ) {
        continue;
      }
      statements.push(`ALTER SEQUENCE ${quoted(seq.schema, seq.name)} RENAME TO "${targetSeq.name}";`);
      seq.name = targetSeq.name;
    }
    for (const kind of NAMED) {
      // Every named kind is keyed by its `name`; that is all this loop reads or changes.
      const items: Record<string, { name: string }> = table[kind] ?? {};
      const targets: Record<string, { name: string }> = target[kind] ?? {};
      for (const name of Object.keys(items)) {
        if (name in targets) continue;
        const match = Object.keys(targets).find(
          (candidate) =>
            !(candidate in items) && sameJson({ ...items[name], name: candidate }, targets[candidate]),
        );
        if (!match) continue;
        statements.push(
          kind === 'indexes'
            ? `ALTER INDEX ${quoted(table.schema, name)} RENAME TO "${match}";`
            : `ALTER TABLE ${quoted(table.schema, table.name)} RENAME CONSTRAINT "${name}" TO "${match}";`,
        );
        items[match] = { ...items[name], name: match };
        delete items[name];
      }
    }
  }
}

/** Same entries in the same order, `from` re-keyed as `to`. */
function renameKey<T>(items: Record<string, T>, from: string, to: string): Record<string, T> {
  return Object.fromEntries(Object.entries(items).map(([key, value]) => [key === from ? to : key, value]));
}

// ---- human descriptions ----

const QN = '(?:"([^"]+)"\\.)?"([^"]+)"'; // optionally schema-qualified name: groups schema, name
const display = (schema: string | undefined, name: string | undefined) =>
  schema && schema !== 'public' ? `${schema}.${name}` : `${name}`;

type Rule = [RegExp, (m: RegExpExecArray) => string, loss?: boolean];

const ALTER_TABLE = `^ALTER TABLE ${QN} `;
const t = (m: RegExpExecArray) => display(m[1], m[2]);
const lower = (s: string | undefined) => `${s}`.toLowerCase();

const RULES: Rule[] = [
  [new RegExp(`^CREATE TABLE (?:IF NOT EXISTS )?${QN}`), (m) => `create table ${t(m)}`],
  [new RegExp(`^DROP TABLE (?:IF EXISTS )?${QN}`), (m) => `drop table ${t(m)}`, true],
  [new RegExp(`${ALTER_TABLE}RENAME TO "([^"]+)"`), (m) => `rename table ${t(m)} -> ${m[3]}`],
  [
    new RegExp(`${ALTER_TABLE}RENAME COLUMN "([^"]+)" TO "([^"]+)"`),
    (m) => `rename column ${t(m)}.${m[3]} -> ${m[4]}`,
  ],
  [
    new RegExp(`${ALTER_TABLE}RENAME CONSTRAINT "([^"]+)" TO "([^"]+)"`),
    (m) => `rename constraint ${t(m)}.${m[3]} -> ${m[4]}`,
  ],
  [new RegExp(`${ALTER_TABLE}SET SCHEMA "([^"]+)"`), (m) => `move table ${t(m)} to schema ${m[3]}`],
  [new RegExp(`${ALTER_TABLE}ADD COLUMN "([^"]+)"`), (m) => `add column ${t(m)}.${m[3]}`],
  [new RegExp(`${ALTER_TABLE}DROP COLUMN "([^"]+)"`), (m) => `drop column ${t(m)}.${m[3]}`, true],
  [
    new RegExp(`${ALTER_TABLE}ALTER COLUMN "([^"]+)" SET DATA TYPE (.+?)(?: USING |;|$)`),
    (m) => `alter column ${t(m)}.${m[3]} type ${m[4]?.replaceAll('"', '')}`,
    true,
  ],
  [
    new RegExp(
      `${ALTER_TABLE}ALTER COLUMN "([^"]+)" (SET DEFAULT|DROP DEFAULT|SET NOT NULL|DROP NOT NULL|DROP IDENTITY|ADD GENERATED|SET GENERATED|SET EXPRESSION|DROP EXPRESSION)?`,
    ),
    (m) => `alter column ${t(m)}.${m[3]}${m[4] ? ` ${lower(m[4])}` : ''}`,
  ],
  [
    new RegExp(`${ALTER_TABLE}ADD CONSTRAINT "([^"]+)" (FOREIGN KEY|UNIQUE|PRIMARY KEY|CHECK)`),
    (m) => `add ${lower(m[4])} ${m[3]} on ${t(m)}`,
  ],
  [new RegExp(`${ALTER_TABLE}ADD PRIMARY KEY \\("([^"]+)"\\)`), (m) => `add primary key ${t(m)}.${m[3]}`],
  [new RegExp(`${ALTER_TABLE}DROP CONSTRAINT "([^"]+)"`), (m) => `drop constraint ${m[3]} on ${t(m)}`],
  [
    new RegExp(`${ALTER_TABLE}(ENABLE|DISABLE) ROW LEVEL SECURITY`),
    (m) => `${lower(m[3])} row level security on ${t(m)}`,
  ],
  [
    new RegExp(`^DO \\$\\$ DECLARE pk text;.*conrelid = '${QN}'::regclass`),
    (m) => `drop primary key on ${t(m)}`,
  ],
  [
    new RegExp(`^CREATE (UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?"([^"]+)" ON (?:ONLY )?${QN}`),
    (m) => `create ${m[1] ? 'unique ' : ''}index ${m[2]} on ${display(m[3], m[4])}`,
  ],
  [new RegExp(`^DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?${QN}`), (m) => `drop index ${t(m)}`],
  [new RegExp(`^ALTER INDEX ${QN} RENAME TO "([^"]+)"`), (m) => `rename index ${t(m)} -> ${m[3]}`],
  [new RegExp(`^CREATE TYPE ${QN} AS ENUM`), (m) => `create enum ${t(m)}`],
  [new RegExp(`^DROP TYPE ${QN}`), (m) => `drop enum ${t(m)}`, true],
  [new RegExp(`^ALTER TYPE ${QN} ADD VALUE '([^']*)'`), (m) => `add value '${m[3]}' to enum ${t(m)}`],
  [new RegExp(`^ALTER TYPE ${QN} RENAME TO "([^"]+)"`), (m) => `rename enum ${t(m)} -> ${m[3]}`],
  [new RegExp(`^ALTER TYPE ${QN} SET SCHEMA "([^"]+)"`), (m) => `move enum ${t(m)} to schema ${m[3]}`],
  [/^CREATE SCHEMA (?:IF NOT EXISTS )?"([^"]+)"/, (m) => `create schema ${m[1]}`],
  [/^DROP SCHEMA (?:IF EXISTS )?"([^"]+)"/, (m) => `drop schema ${m[1]}`, true],
  [/^ALTER SCHEMA "([^"]+)" RENAME TO "([^"]+)"/, (m) => `rename schema ${m[1]} -> ${m[2]}`],
  [new RegExp(`^CREATE SEQUENCE (?:IF NOT EXISTS )?${QN}`), (m) => `create sequence ${t(m)}`],
  [new RegExp(`^DROP SEQUENCE (?:IF EXISTS )?${QN}`), (m) => `drop sequence ${t(m)}`, true],
  [new RegExp(`^ALTER SEQUENCE ${QN} RENAME TO "([^"]+)"`), (m) => `rename sequence ${t(m)} -> ${m[3]}`],
  [new RegExp(`^ALTER SEQUENCE ${QN}`), (m) => `alter sequence ${t(m)}`],
  [
    new RegExp(`^CREATE (MATERIALIZED )?VIEW ${QN}`),
    (m) => `create ${lower(m[1] ?? '')}view ${display(m[2], m[3])}`,
  ],
  [
    new RegExp(`^DROP (MATERIALIZED )?VIEW ${QN}`),
    (m) => `drop ${lower(m[1] ?? '')}view ${display(m[2], m[3])}`,
  ],
  [
    new RegExp(`^ALTER (MATERIALIZED )?VIEW ${QN}`),
    (m) => `alter ${lower(m[1] ?? '')}view ${display(m[2], m[3])}`,
  ],
  [
    new RegExp(`^(CREATE|DROP|ALTER) POLICY "([^"]+)" ON ${QN}`),
    (m) => `${lower(m[1])} policy ${m[2]} on ${display(m[3], m[4])}`,
  ],
  [/^(CREATE|DROP|ALTER) ROLE "([^"]+)"/, (m) => `${lower(m[1])} role ${m[2]}`],
  [
    new RegExp(`^SELECT setval\\(pg_get_serial_sequence\\('${QN}', '([^']+)'\\)`),
    (m) => `start the identity of ${t(m)}.${m[3]} after its existing rows`,
  ],
];

const SET_TYPE = new RegExp(`${ALTER_TABLE}ALTER COLUMN "([^"]+)" SET DATA TYPE (.+?)(?: USING .*)?;?$`, 's');
const LENGTH = /^(varchar|char|character varying|character)\((\d+)\)$/;
const NUMERIC = /^(numeric|decimal)\((\d+)(?:,\s*(\d+))?\)$/;
const INTEGERS = ['smallint', 'integer', 'bigint'];

/** A type change every value survives: a longer varchar, varchar to text, a wider integer or numeric. */
function widens(statement: string, from: Snapshot): boolean {
  const m = SET_TYPE.exec(statement);
  if (!m) return false;
  const old = `${from.tables[tableKey(m[1], m[2]!)]?.columns[m[3]!]?.type ?? ''}`.toLowerCase();
  const next = `${m[4]}`.replaceAll('"', '').toLowerCase();
  const [oldLength, nextLength] = [LENGTH.exec(old), LENGTH.exec(next)];
  if (oldLength && (next === 'text' || next === 'varchar' || next === 'character varying')) return true;
  if (oldLength && nextLength)
    return nextLength[1]!.startsWith('var') && Number(nextLength[2]) >= Number(oldLength[2]);
  if ((old === 'varchar' || old === 'character varying') && next === 'text') return true;
  if (INTEGERS.includes(old) && INTEGERS.includes(next))
    return INTEGERS.indexOf(next) >= INTEGERS.indexOf(old);
  if (INTEGERS.includes(old) && next === 'numeric') return true;
  if (old === 'real' && next === 'double precision') return true;
  const [oldNumeric, nextNumeric] = [NUMERIC.exec(old), NUMERIC.exec(next)];
  if (oldNumeric && (next === 'numeric' || next === 'decimal')) return true;
  if (oldNumeric && nextNumeric) {
    const [op, os, np, ns] = [oldNumeric[2], oldNumeric[3] ?? '0', nextNumeric[2], nextNumeric[3] ?? '0'].map(
      Number,
    );
    return ns! >= os! && np! - ns! >= op! - os!;
  }
  return false;
}

function describe(statement: string): { change: string; loss: boolean } {
  for (const [pattern, text, loss] of RULES) {
    const m = pattern.exec(statement);
    if (m) return { change: text(m), loss: loss === true };
  }
  return { change: statement.replace(/\s+/g, ' ').slice(0, 80), loss: false };
}
