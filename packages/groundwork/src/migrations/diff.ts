import type { DrizzleSnapshotJSON } from 'drizzle-kit/api';
import {
  dropPrimaryKeyByLookup,
  enumRebuilds,
  isDropPrimaryKey,
  withoutCascade,
  withoutConcurrently,
  withSequenceAfterRows,
} from '../adapters/drizzle-kit-sql.ts';
import { postgresObjectName } from '../pg-names.ts';
import { drizzleKit } from './drizzle-kit.ts';
import { restoreDependentViews, saveDependentViews } from './enum-rebuild.ts';

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

export interface SnapshotColumn {
  name: string;
  type: string;
  primaryKey?: boolean;
  notNull?: boolean;
  default?: unknown;
  /** The identity's sequence, named after table and column. */
  identity?: { name: string; schema?: string; [other: string]: unknown };
  [other: string]: unknown;
}

interface SnapshotIndex {
  name: string;
  columns: { expression: string; isExpression: boolean; [other: string]: unknown }[];
  isUnique?: boolean;
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
  | { kind: 'column'; table: string; from: string; to: string }
  | { kind: 'enumValue'; schema: string | undefined; type: string; from: string; to: string };

export interface DiffResult {
  statements: string[];
  /** One human line per statement. */
  changes: string[];
  /** One line per statement that can destroy or narrow data. */
  dataLoss: string[];
}

type TableRename = Extract<Rename, { kind: 'table' }>;
type ColumnRename = Extract<Rename, { kind: 'column' }>;
type EnumValueRename = Extract<Rename, { kind: 'enumValue' }>;

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
const ENUM_PREFIX = 'enum:';

/** Parses `old_table=new_table`, `table.old_column=new_column` or `enum:[schema.]type.old_value=new_value`. */
export function parseRename(spec: string): Rename {
  if (spec.trim().startsWith(ENUM_PREFIX)) return parseEnumValueRename(spec);
  const usage = `Invalid rename "${spec}": expected old_table=new_table, table.old_column=new_column or enum:type.old_value=new_value`;
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

/** `enum:mood.sad=unhappy` or `enum:app.mood.sad=unhappy`: values are taken as written, spaces included. */
function parseEnumValueRename(spec: string): EnumValueRename {
  const usage = `Invalid rename "${spec}": expected enum:type.old_value=new_value (or enum:schema.type.old_value=new_value)`;
  const body = spec.trim().slice(ENUM_PREFIX.length);
  const equals = body.indexOf('=');
  if (equals < 0 || body.indexOf('=', equals + 1) >= 0) throw new RenameError(usage);
  const [left, to] = [body.slice(0, equals), body.slice(equals + 1)];
  const path = left.split('.');
  if (path.length < 2 || path.length > 3 || !to || path.some((part) => !part)) throw new RenameError(usage);
  if (!path.slice(0, -1).every((part) => NAME.test(part))) throw new RenameError(usage);
  const from = path.at(-1)!;
  if (from === to) throw new RenameError(`Invalid rename "${spec}": old and new values are the same`);
  const [schema, type] = path.length === 3 ? [path[0], path[1]!] : [undefined, path[0]!];
  return { kind: 'enumValue', schema, type, from, to };
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
  const statements = withDependentViewsKept([
    ...renamed.statements,
    ...(await migrate(renamed.snapshot, dependentsDropped)),
    // drizzle also disables RLS on every dropped table (a no-op before DROP TABLE); nothing else in this
    // phase touches RLS, so these are all noise.
    ...(await migrate(dependentsDropped, removedDropped)).filter(
      (s) => !s.endsWith('DISABLE ROW LEVEL SECURITY;'),
    ),
    ...(await migrate(removedDropped, allCreated)),
    ...(await migrate(allCreated, to)),
  ]);
  return describeAll(statements, renamed.snapshot);
}

/** The human lines and data-loss flags of `statements`, run against the schema `from` describes. */
export function describeAll(statements: string[], from: Snapshot): DiffResult {
  const described = statements.map((statement) => {
    const description = describe(statement);
    return description.loss && widens(statement, from) ? { ...description, loss: false } : description;
  });
  return {
    statements,
    changes: described.map((d) => d.change),
    dataLoss: described.filter((d) => d.loss).map((d) => d.change),
  };
}

/** `from` with the renames applied: the schema the rest of a diff is computed against. */
export const withRenames = (from: Snapshot, to: Snapshot, renames: Rename[]): Snapshot =>
  applyRenames(from, to, renames).snapshot;

async function migrate(a: Snapshot, b: Snapshot): Promise<string[]> {
  const statements = await drizzleKit().generateMigration(a as DrizzleSnapshotJSON, b as DrizzleSnapshotJSON);
  const fixed = statements.flatMap((s) =>
    withSequenceAfterRows(withoutConcurrently(withoutCascade(dropPrimaryKeyByLookup(s.trim())))),
  );
  // the primary key must go before a new one is added in the same phase
  return [...fixed.filter(isDropPrimaryKey), ...fixed.filter((s) => !isDropPrimaryKey(s))];
}

/**
 * An enum rebuild changes the type of every column of it, which PostgreSQL refuses while a view uses one: the
 * dependent views are saved and dropped before, and re-created after, in the same transaction.
 */
function withDependentViewsKept(statements: string[]): string[] {
  const result = [...statements];
  for (const { type, start, end } of enumRebuilds(statements).reverse()) {
    result.splice(end + 1, 0, restoreDependentViews());
    result.splice(start, 0, saveDependentViews(type));
  }
  return result;
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
/** `schema.table`, the key of a table in a snapshot. */
export const tableKey = (schema: string | undefined, name: string) => `${schemaOf(schema)}.${name}`;
/** A table's or index's name as SQL: `"name"`, or `"schema"."name"` outside public. */
export const quoted = (schema: string | undefined, name: string) =>
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
  for (const r of renames) if (r.kind === 'enumValue') renameEnumValue(snapshot, to, r, statements);
  const origins: Origins = new Map();
  for (const r of renames)
    if (r.kind === 'column') renameColumn(snapshot, to, r, tableRenames, statements, touched, origins);
  for (const r of tableRenames) renameTable(snapshot, to, r, statements, touched, origins);
  followDerivedNames(snapshot, to, touched, statements);
  renameNotNullConstraints(origins, statements);
  return { snapshot, statements };
}

/** `ALTER TYPE ... RENAME VALUE`: the rows keep their value under its new label, no rebuild. */
function renameEnumValue(snapshot: Snapshot, to: Snapshot, r: EnumValueRename, statements: string[]) {
  const action = `rename value ${r.from} of enum ${r.type} to ${r.to}`;
  const keys = Object.keys(snapshot.enums ?? {}).filter((key) => {
    const item = snapshot.enums[key]!;
    return item.name === r.type && (r.schema === undefined || schemaOf(item.schema) === r.schema);
  });
  if (keys.length !== 1) {
    throw new RenameError(
      keys.length
        ? `Cannot ${action}: enum "${r.type}" exists in several schemas (${keys.join(', ')}); write enum:schema.type.value=new`
        : `Cannot ${action}: enum "${r.type}" does not exist in the previous snapshot`,
    );
  }
  const key = keys[0]!;
  const item = snapshot.enums[key]!;
  if (!item.values.includes(r.from))
    throw new RenameError(`Cannot ${action}: enum ${key} has no value "${r.from}"`);
  if (item.values.includes(r.to))
    throw new RenameError(`Cannot ${action}: enum ${key} already has "${r.to}"`);
  if (!to.enums?.[key]?.values.includes(r.to)) {
    throw new RenameError(`Cannot ${action}: enum ${key} has no value "${r.to}" in the new schema`);
  }
  statements.push(
    `ALTER TYPE "${schemaOf(item.schema)}"."${item.name}" RENAME VALUE ${literal(r.from)} TO ${literal(r.to)};`,
  );
  item.values = item.values.map((value) => (value === r.from ? r.to : value));
  // a column default names the value by its label, which PostgreSQL now prints as the new one
  for (const table of Object.values(snapshot.tables)) {
    for (const column of Object.values(table.columns)) {
      if (
        column.type === item.name &&
        schemaOf(column.typeSchema as string | undefined) === schemaOf(item.schema)
      ) {
        if (column.default === literal(r.from)) column.default = literal(r.to);
      }
    }
  }
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
const SERIAL_TYPES = ['serial', 'bigserial', 'smallserial'];

/** What each renamed table was called before this diff, and each of its columns (current name -> original). */
type Origins = Map<SnapshotTable, { table: string; columns: Map<string, string> }>;

function originOf(origins: Origins, table: SnapshotTable) {
  let origin = origins.get(table);
  if (!origin) {
    origin = { table: table.name, columns: new Map(Object.keys(table.columns).map((name) => [name, name])) };
    origins.set(table, origin);
  }
  return origin;
}

/** A serial column's sequence is named after table and column (`users_id_seq`), as a fresh database names it. */
function renameSerialSequences(
  table: SnapshotTable,
  names: { fromTable: string; toTable: string; columns: [from: string, to: string][] },
  statements: string[],
) {
  for (const [from, to] of names.columns) {
    if (!SERIAL_TYPES.includes(table.columns[to]!.type)) continue;
    const before = postgresObjectName(names.fromTable, from, 'seq');
    const after = postgresObjectName(names.toTable, to, 'seq');
    if (before !== after)
      statements.push(`ALTER SEQUENCE IF EXISTS ${quoted(table.schema, before)} RENAME TO "${after}";`);
  }
}

/**
 * PostgreSQL 18 names each NOT NULL constraint `<table>_<column>_not_null` and keeps the name through renames;
 * a fresh database names it after the new ones. Renamed only where it exists under the old name (not before 18).
 */
function renameNotNullConstraints(origins: Origins, statements: string[]) {
  for (const [table, origin] of origins) {
    const pairs = [...origin.columns]
      .filter(([name]) => table.columns[name]?.notNull)
      .map(([name, was]) => [
        postgresObjectName(origin.table, was, 'not_null'),
        postgresObjectName(table.name, name, 'not_null'),
      ])
      .filter(([before, after]) => before !== after)
      .map(([before, after]) => `(${literal(before!)}, ${literal(after!)})`);
    if (pairs.length === 0) continue;
    const qualified = quoted(table.schema, table.name);
    statements.push(
      `DO $$ DECLARE pair record; BEGIN FOR pair IN SELECT * FROM (VALUES ${pairs.join(', ')}) AS p(old, new) LOOP ` +
        `IF EXISTS (SELECT FROM pg_constraint WHERE conrelid = ${literal(qualified)}::regclass AND contype = 'n' AND conname = pair.old) ` +
        `THEN EXECUTE format('ALTER TABLE ${qualified} RENAME CONSTRAINT %I TO %I', pair.old, pair.new); END IF; END LOOP; END $$;`,
    );
  }
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
  origins: Origins,
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
  const origin = originOf(origins, table);
  origin.columns.set(r.to, origin.columns.get(r.from)!);
  origin.columns.delete(r.from);
  table.columns = renameKey(table.columns, r.from, r.to);
  table.columns[r.to]!.name = r.to;
  renameSerialSequences(
    table,
    { fromTable: table.name, toTable: table.name, columns: [[r.from, r.to]] },
    statements,
  );
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
  origins: Origins,
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
  // a column-level key is named by PostgreSQL (<table>_pkey); renaming its index renames the constraint
  if (Object.values(table.columns).some((column) => column.primaryKey === true)) {
    const [before, after] = [
      postgresObjectName(r.from, undefined, 'pkey'),
      postgresObjectName(r.to, undefined, 'pkey'),
    ];
    statements.push(`ALTER INDEX IF EXISTS ${quoted(table.schema, before)} RENAME TO "${after}";`);
  }
  originOf(origins, table);
  const columns = Object.keys(table.columns).map((name): [string, string] => [name, name]);
  renameSerialSequences(table, { fromTable: r.from, toTable: r.to, columns }, statements);
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
  [
    new RegExp(
      `${ALTER_TABLE}DROP CONSTRAINT IF EXISTS "([^"]+)", ADD CONSTRAINT "[^"]+" (FOREIGN KEY|CHECK)`,
    ),
    (m) => `add ${lower(m[4])} ${m[3]} on ${t(m)} (not valid)`,
  ],
  [
    new RegExp(`${ALTER_TABLE}VALIDATE CONSTRAINT "([^"]+)"`),
    (m) => `validate constraint ${m[3]} on ${t(m)}`,
  ],
  [
    new RegExp(`${ALTER_TABLE}DROP CONSTRAINT (?:IF EXISTS )?"([^"]+)"`),
    (m) => `drop constraint ${m[3]} on ${t(m)}`,
  ],
  [
    /^DO \$\$ BEGIN IF NOT EXISTS .* THEN ALTER TABLE ((?:"[^"]+"\.)?"[^"]+") ADD CONSTRAINT "([^"]+)" (UNIQUE|PRIMARY KEY) USING INDEX/,
    (m) => `add ${lower(m[3])} ${m[2]} on ${m[1]!.replaceAll('"', '')} using its index`,
  ],
  [
    /^DO \$groundwork\$\nDECLARE\n {2}saved record;\nBEGIN\n {2}CREATE TEMP/,
    () => 'save and drop the views that use the enum',
  ],
  [/^DO \$groundwork\$\nDECLARE\n {2}saved record;\n {2}kind text;/, () => 're-create the saved views'],
  [
    /^DO \$\$ DECLARE pair record;.*RENAME CONSTRAINT/,
    () => 'rename the NOT NULL constraints (PostgreSQL 18)',
  ],
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
  [
    new RegExp(`^ALTER INDEX (?:IF EXISTS )?${QN} RENAME TO "([^"]+)"`),
    (m) => `rename index ${t(m)} -> ${m[3]}`,
  ],
  [new RegExp(`^CREATE TYPE ${QN} AS ENUM`), (m) => `create enum ${t(m)}`],
  [new RegExp(`^DROP TYPE ${QN}`), (m) => `drop enum ${t(m)}`, true],
  [new RegExp(`^ALTER TYPE ${QN} ADD VALUE '([^']*)'`), (m) => `add value '${m[3]}' to enum ${t(m)}`],
  [new RegExp(`^ALTER TYPE ${QN} RENAME TO "([^"]+)"`), (m) => `rename enum ${t(m)} -> ${m[3]}`],
  [
    new RegExp(`^ALTER TYPE ${QN} RENAME VALUE '((?:[^']|'')*)' TO '((?:[^']|'')*)'`),
    (m) => `rename value '${m[3]}' of enum ${t(m)} -> '${m[4]}'`,
  ],
  [new RegExp(`^ALTER TYPE ${QN} SET SCHEMA "([^"]+)"`), (m) => `move enum ${t(m)} to schema ${m[3]}`],
  [/^CREATE SCHEMA (?:IF NOT EXISTS )?"([^"]+)"/, (m) => `create schema ${m[1]}`],
  [/^DROP SCHEMA (?:IF EXISTS )?"([^"]+)"/, (m) => `drop schema ${m[1]}`, true],
  [/^ALTER SCHEMA "([^"]+)" RENAME TO "([^"]+)"/, (m) => `rename schema ${m[1]} -> ${m[2]}`],
  [new RegExp(`^CREATE SEQUENCE (?:IF NOT EXISTS )?${QN}`), (m) => `create sequence ${t(m)}`],
  [new RegExp(`^DROP SEQUENCE (?:IF EXISTS )?${QN}`), (m) => `drop sequence ${t(m)}`, true],
  [
    new RegExp(`^ALTER SEQUENCE (?:IF EXISTS )?${QN} RENAME TO "([^"]+)"`),
    (m) => `rename sequence ${t(m)} -> ${m[3]}`,
  ],
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

/**
 * `table.column old -> new` when a type change only updates the catalog (PostgreSQL rewrites neither the table
 * nor its indexes): a longer or unlimited varchar, varchar <-> text, a numeric with more precision and the same
 * scale, or no limit. Undefined for any other change, integer -> bigint included.
 */
export function typeChangeWithoutRewrite(statement: string, from: Snapshot): string | undefined {
  const m = SET_TYPE.exec(statement);
  if (!m) return undefined;
  const old = `${from.tables[tableKey(m[1], m[2]!)]?.columns[m[3]!]?.type ?? ''}`.toLowerCase();
  const next = `${m[4]}`.replaceAll('"', '').toLowerCase();
  const unlimited = (type: string) => type === 'text' || type === 'varchar' || type === 'character varying';
  const [oldVarchar, nextVarchar] = [VARCHAR.exec(old), VARCHAR.exec(next)];
  const [oldNumeric, nextNumeric] = [NUMERIC.exec(old), NUMERIC.exec(next)];
  const free =
    ((oldVarchar || unlimited(old)) && unlimited(next)) ||
    (oldVarchar && nextVarchar && Number(nextVarchar[2]) >= Number(oldVarchar[2])) ||
    (oldNumeric && (next === 'numeric' || next === 'decimal')) ||
    (oldNumeric &&
      nextNumeric &&
      Number(nextNumeric[2]) >= Number(oldNumeric[2]) &&
      (nextNumeric[3] ?? '0') === (oldNumeric[3] ?? '0'));
  return free && !m[0].includes(' USING ') ? `${display(m[1], m[2])}.${m[3]} ${old} -> ${next}` : undefined;
}

const VARCHAR = /^(varchar|character varying)\((\d+)\)$/;

function describe(statement: string): { change: string; loss: boolean } {
  for (const [pattern, text, loss] of RULES) {
    const m = pattern.exec(statement);
    if (m) return { change: text(m), loss: loss === true };
  }
  return { change: statement.replace(/\s+/g, ' ').slice(0, 80), loss: false };
}
