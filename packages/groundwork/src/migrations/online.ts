import { onlineStep } from '../adapters/drizzle-kit-sql.ts';
import {
  type DiffResult,
  describeAll,
  diffSnapshots,
  quoted,
  type Snapshot,
  type SnapshotTable,
  tableKey,
} from './diff.ts';

/** What the online step adds and drops on a table that already had rows: everything index-backed or validated. */
const ONLINE_KINDS = [
  'indexes',
  'uniqueConstraints',
  'compositePrimaryKeys',
  'foreignKeys',
  'checkConstraints',
] as const;
type OnlineKind = (typeof ONLINE_KINDS)[number];

interface Item {
  columns?: unknown[];
  columnsFrom?: string[];
  columnsTo?: string[];
  tableTo?: string;
  schemaTo?: string;
  where?: string;
  value?: string;
}

/** The column names an item uses, and its SQL text (expressions, predicates, CHECK bodies). */
function usesOf(item: Item): { columns: string[]; text: string } {
  const columns: string[] = [];
  const texts = [item.where ?? '', item.value ?? ''];
  for (const column of item.columns ?? []) {
    if (typeof column === 'string') columns.push(column);
    else {
      const { expression, isExpression } = column as { expression: string; isExpression: boolean };
      if (isExpression) texts.push(expression);
      else columns.push(expression);
    }
  }
  columns.push(...(item.columnsFrom ?? []));
  return { columns, text: texts.join(' ') };
}

/**
 * True when an item of a table that already existed keeps everything it uses through the transactional step:
 * its columns, and for a foreign key the table and columns it points at. Anything else is dropped in the
 * transaction, before what it uses.
 */
function outlivesTransaction(item: Item, before: SnapshotTable, after: SnapshotTable, to: Snapshot): boolean {
  const dropped = Object.keys(before.columns).filter((name) => !(name in after.columns));
  const { columns, text } = usesOf(item);
  if (columns.some((name) => dropped.includes(name))) return false;
  if (dropped.some((name) => text.includes(`"${name}"`))) return false;
  if (item.tableTo === undefined) return true;
  const target = to.tables[tableKey(item.schemaTo, item.tableTo)];
  return target !== undefined && (item.columnsTo ?? []).every((name) => name in target.columns);
}

/**
 * The schema after the transactional step of a change from `from` (renames applied) to `to`: `to`, except
 * that on the tables `from` already had, indexes, keys, foreign keys, CHECKs and NOT NULL are still as they
 * were. The online step then changes those outside a transaction without long locks; a table created in this
 * revision gets them in the transaction (nobody reads it yet).
 */
export function transactionalTarget(from: Snapshot, to: Snapshot): Snapshot {
  const mid = structuredClone(to);
  for (const [key, table] of Object.entries(mid.tables)) {
    const before = from.tables[key];
    if (!before) continue;
    for (const kind of ONLINE_KINDS) keepOutliving(table, before, kind, to);
    for (const [name, column] of Object.entries(table.columns)) {
      const old = before.columns[name];
      // an identity needs its column NOT NULL in the same step
      if (!old || (column.identity && !old.identity)) continue;
      column.notNull = old.notNull;
      column.primaryKey = old.primaryKey;
    }
  }
  for (const table of Object.values(mid.tables)) {
    if (from.tables[tableKey(table.schema, table.name)]) continue;
    // a new table's foreign key to a key the online step creates waits for that key
    table.foreignKeys = Object.fromEntries(
      Object.entries(table.foreignKeys ?? {}).filter(([, fk]) => keyExists(mid, fk)),
    );
  }
  return mid;
}

function keepOutliving<K extends OnlineKind>(
  table: SnapshotTable,
  before: SnapshotTable,
  kind: K,
  to: Snapshot,
) {
  const items: Record<string, Item> = before[kind] ?? {};
  table[kind] = Object.fromEntries(
    Object.entries(items).filter(([, item]) => outlivesTransaction(item, before, table, to)),
  ) as SnapshotTable[K];
}

/** True when the columns a foreign key points at are a primary key or unique in `snapshot`. */
function keyExists(snapshot: Snapshot, fk: Item): boolean {
  const target = snapshot.tables[tableKey(fk.schemaTo, fk.tableTo ?? '')];
  if (!target) return true;
  const wanted = [...(fk.columnsTo ?? [])].sort().join(',');
  const same = (columns: string[]) => [...columns].sort().join(',') === wanted;
  const primary = Object.values(target.columns)
    .filter((column) => column.primaryKey)
    .map((column) => column.name);
  if (primary.length && same(primary)) return true;
  const keys = [
    ...Object.values(target.compositePrimaryKeys ?? {}),
    ...Object.values(target.uniqueConstraints ?? {}),
  ];
  if (keys.some((key) => same(key.columns))) return true;
  return Object.values(target.indexes ?? {}).some(
    (index) =>
      index.isUnique === true &&
      !index.where &&
      index.columns.every((c) => !c.isExpression) &&
      same(index.columns.map((c) => c.expression)),
  );
}

/**
 * Without the DROP INDEX statements of indexes that use a column the same transactional step drops: PostgreSQL
 * drops them with the column, under the lock the column drop takes anyway, and no separate statement (nor lint
 * finding) is needed.
 */
export function withoutImplicitIndexDrops(statements: string[], from: Snapshot, to: Snapshot): string[] {
  const implicit = new Set<string>();
  for (const [key, before] of Object.entries(from.tables)) {
    const after = to.tables[key];
    if (!after) continue;
    for (const index of Object.values(before.indexes ?? {})) {
      if (outlivesTransaction(index, before, after, to)) continue;
      implicit.add(`DROP INDEX ${quoted(before.schema, index.name)};`);
    }
  }
  return statements.filter((statement) => !implicit.has(statement));
}

/** The statements of the online step from `from` to `to`, in their online forms. */
export async function diffOnline(from: Snapshot, to: Snapshot): Promise<DiffResult> {
  const { statements } = await diffSnapshots(from, to);
  return describeAll(onlineStep(statements), from);
}
