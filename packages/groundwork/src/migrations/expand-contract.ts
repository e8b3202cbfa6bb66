import { identifier } from '../pg-names.ts';
import {
  type DiffResult,
  describeAll,
  diffSnapshots,
  quoted,
  type Snapshot,
  type SnapshotColumn,
  type SnapshotTable,
} from './diff.ts';
import type { LintRuleId } from './lint-rules.ts';
import { diffOnline } from './online.ts';

/** `--expand-contract` cannot be used for this column: a usage error, nothing written. */
export class ExpandContractError extends Error {
  override name = 'ExpandContractError';
}

/** One migration of a revision, computed in full before anything is written. */
export interface PlannedStep {
  suffix: string;
  message: string;
  noTransaction: boolean;
  from: Snapshot;
  to: Snapshot;
  up: DiffResult;
  down: string[];
  /** Reasons for the lint findings this step has by design (the switch's renames, the contract's drop). */
  allowed: Partial<Record<LintRuleId, string>>;
}

type Column = SnapshotTable['columns'][string];

/** The SQL type of a snapshot column: its text, or its enum qualified. */
const sqlType = (column: Column) =>
  column.typeSchema !== undefined ? `"${column.typeSchema || 'public'}"."${column.type}"` : column.type;

/** Rows updated per transaction of the backfill: the table's blocks, 100 at a time (~800 kB). */
const BLOCKS_PER_BATCH = 100;

/**
 * A column's type change as pgroll does it, in four migrations instead of one table rewrite under an
 * exclusive lock: expand (a new column, kept equal to the old one by a trigger), backfill (existing rows in
 * batches of blocks, each its own transaction; then NOT NULL and the indexes, online), switch (the new column
 * takes the old one's name in one short transaction, so the running release reads and writes it unchanged),
 * contract (the old column dropped). `previous` -> `current` may hold other changes: they are planned as usual
 * and come first (`rest`).
 */
export function expandContract(
  previous: Snapshot,
  current: Snapshot,
  spec: string,
  message: string,
): { rest: Snapshot; steps: () => Promise<PlannedStep[]> } {
  const [tableName = '', columnName = '', ...more] = spec.split('.');
  const refuse = (why: string) => new ExpandContractError(`--expand-contract ${spec}: ${why}`);
  if (!tableName || !columnName || more.length) throw refuse('expected table.column');
  const keys = Object.keys(current.tables).filter((key) => current.tables[key]!.name === tableName);
  if (keys.length !== 1)
    throw refuse(keys.length ? 'the table exists in several schemas' : 'no such table in schema.ts');
  const key = keys[0]!;
  const [before, after] = [previous.tables[key], current.tables[key]!];
  const [oldColumn, newColumn] = [before?.columns[columnName], after.columns[columnName]];
  if (!oldColumn || !newColumn) throw refuse('the column must exist before and after this revision');
  if (sqlType(oldColumn) === sqlType(newColumn))
    throw refuse(`its type (${sqlType(newColumn)}) does not change`);
  const problem = unsupported(before!, after, current, columnName);
  if (problem) {
    throw refuse(
      `not offered: ${problem}. Change the type in place with --allow changing-column-type="<why>", or write the steps by hand.`,
    );
  }

  const rest = successor(current);
  rest.tables[key]!.columns[columnName] = structuredClone(oldColumn);
  return { rest, steps: () => sequence(rest, current, key, columnName, message) };
}

/** A copy of `snapshot` for the next step: the same schema under an id of its own. */
function successor(snapshot: Snapshot): Snapshot {
  return { ...structuredClone(snapshot), id: crypto.randomUUID() };
}

/**
 * `column` under `name`, nullable and without a default (never a key: those are refused): adding it rewrites
 * nothing, and writes that leave it out still succeed.
 */
function looseCopy(column: SnapshotColumn, name: string): SnapshotColumn {
  return { ...structuredClone(column), name, notNull: false, primaryKey: false, default: undefined };
}

/** Why a column cannot go through expand/contract here, if it cannot. */
function unsupported(before: SnapshotTable, after: SnapshotTable, current: Snapshot, column: string) {
  const named = (text: string | undefined) => (text ?? '').includes(`"${column}"`);
  const target = after.columns[column]!;
  if (target.primaryKey || before.columns[column]!.primaryKey) return 'it is (part of) the primary key';
  if (target.identity || /serial$/.test(target.type)) return 'it has a sequence (identity or serial)';
  if (target.generated || before.columns[column]!.generated) return 'it is a generated column';
  const keys = [
    ...Object.values(after.compositePrimaryKeys ?? {}),
    ...Object.values(after.uniqueConstraints ?? {}),
  ];
  if (keys.some((k) => k.columns.includes(column))) return 'it is part of a key';
  if (Object.values(after.foreignKeys ?? {}).some((fk) => fk.columnsFrom.includes(column)))
    return 'it has a foreign key';
  const pointing = Object.values(current.tables).some((table) =>
    Object.values(table.foreignKeys ?? {}).some(
      (fk) =>
        fk.tableTo === after.name &&
        (fk.schemaTo || 'public') === (after.schema || 'public') &&
        fk.columnsTo.includes(column),
    ),
  );
  if (pointing) return 'a foreign key points at it';
  if (Object.values(after.checkConstraints ?? {}).some((c) => named(c.value))) return 'a CHECK uses it';
  if (Object.values(after.policies ?? {}).some((p) => named(p.using) || named(p.withCheck)))
    return 'a policy uses it';
  for (const index of Object.values(after.indexes ?? {})) {
    if (index.columns.some((c) => c.isExpression && named(c.expression)) || named(index.where))
      return `index ${index.name} uses it in an expression`;
  }
  const uses = (table: SnapshotTable) =>
    JSON.stringify(
      Object.values(table.indexes ?? {}).filter((i) => i.columns.some((c) => c.expression === column)),
    );
  if (uses(before) !== uses(after)) return 'its indexes change too (change them in a revision of their own)';
  return undefined;
}

async function sequence(
  rest: Snapshot,
  current: Snapshot,
  key: string,
  column: string,
  message: string,
): Promise<PlannedStep[]> {
  const table = current.tables[key]!;
  const t = quoted(table.schema, table.name);
  const [oldType, newType] = [sqlType(rest.tables[key]!.columns[column]!), sqlType(table.columns[column]!)];
  const [fresh, stale] = [identifier(`${column}_new`), identifier(`${column}_old`)];
  if (fresh in table.columns || stale in table.columns)
    throw new ExpandContractError(
      `--expand-contract: ${table.name} already has a column ${fresh} or ${stale}`,
    );
  const sync = identifier(`groundwork_sync_${table.name}_${column}`);
  const fn = `${quoted(table.schema, sync)}()`;
  const indexes = Object.values(table.indexes ?? {}).filter((i) =>
    i.columns.some((c) => c.expression === column),
  );
  const indexName = (name: string, suffix: string) => quoted(table.schema, identifier(`${name}_${suffix}`));
  /** Copies of the column's indexes into `snapshot`, named `<index>_<suffix>`, on `onColumn` instead. */
  const copyIndexes = (snapshot: Snapshot, suffix: string, onColumn: string) => {
    for (const index of indexes) {
      const name = identifier(`${index.name}_${suffix}`);
      snapshot.tables[key]!.indexes[name] = {
        ...structuredClone(index),
        name,
        columns: index.columns.map((c) => (c.expression === column ? { ...c, expression: onColumn } : c)),
      };
    }
  };
  const target = table.columns[column]!;
  const original = rest.tables[key]!.columns[column]!;

  const syncFunction = `CREATE OR REPLACE FUNCTION ${fn} RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW."${fresh}" := NEW."${column}"::${newType}; RETURN NEW; END $$;`;
  const syncTrigger = `CREATE TRIGGER "${sync}" BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${fn};`;

  // expand: the new column, nullable and without a default (no rewrite), kept equal by the trigger
  const expanded = successor(rest);
  expanded.tables[key]!.columns[fresh] = looseCopy(target, fresh);
  const expand = [`ALTER TABLE ${t} ADD COLUMN "${fresh}" ${newType};`, syncFunction, syncTrigger];
  const unexpand = [
    `DROP TRIGGER IF EXISTS "${sync}" ON ${t};`,
    `DROP FUNCTION IF EXISTS ${fn};`,
    `ALTER TABLE ${t} DROP COLUMN IF EXISTS "${fresh}";`,
  ];

  // backfill: block ranges, one transaction each; then NOT NULL and copies of the indexes, online
  const filled = successor(expanded);
  filled.tables[key]!.columns[fresh]!.notNull = target.notNull;
  copyIndexes(filled, 'new', fresh);
  const backfill =
    `DO $$ DECLARE last_block bigint := pg_relation_size('${t.replaceAll("'", "''")}'::regclass) / current_setting('block_size')::bigint; ` +
    `first_block bigint := 0; BEGIN WHILE first_block <= last_block LOOP ` +
    `UPDATE ${t} SET "${fresh}" = "${column}"::${newType} WHERE ctid >= format('(%s,0)', first_block)::tid ` +
    `AND ctid < format('(%s,0)', first_block + ${BLOCKS_PER_BATCH})::tid AND "${fresh}" IS DISTINCT FROM "${column}"::${newType}; ` +
    `COMMIT; first_block := first_block + ${BLOCKS_PER_BATCH}; END LOOP; END $$;`;
  const finish = await diffOnline(expanded, filled);

  // switch: names swapped in one short transaction; the old column stops being required
  const switched = successor(current);
  switched.tables[key]!.columns[stale] = looseCopy(original, stale);
  copyIndexes(switched, 'old', stale);
  const swap = [
    `DROP TRIGGER "${sync}" ON ${t};`,
    `ALTER TABLE ${t} RENAME COLUMN "${column}" TO "${stale}";`,
    `ALTER TABLE ${t} RENAME COLUMN "${fresh}" TO "${column}";`,
    ...(original.notNull ? [`ALTER TABLE ${t} ALTER COLUMN "${stale}" DROP NOT NULL;`] : []),
    ...(original.default !== undefined ? [`ALTER TABLE ${t} ALTER COLUMN "${stale}" DROP DEFAULT;`] : []),
    ...(target.default !== undefined
      ? [`ALTER TABLE ${t} ALTER COLUMN "${column}" SET DEFAULT ${target.default};`]
      : []),
    ...indexes.flatMap((index) => [
      `ALTER INDEX ${quoted(table.schema, index.name)} RENAME TO "${identifier(`${index.name}_old`)}";`,
      `ALTER INDEX ${indexName(index.name, 'new')} RENAME TO "${index.name}";`,
    ]),
  ];
  const unswap = [
    // rows written since the switch: their old-type value, which fails if it does not fit
    `UPDATE ${t} SET "${stale}" = "${column}"::${oldType} WHERE "${stale}" IS DISTINCT FROM "${column}"::${oldType};`,
    ...indexes.flatMap((index) => [
      `ALTER INDEX ${quoted(table.schema, index.name)} RENAME TO "${identifier(`${index.name}_new`)}";`,
      `ALTER INDEX ${indexName(index.name, 'old')} RENAME TO "${index.name}";`,
    ]),
    ...(target.default !== undefined ? [`ALTER TABLE ${t} ALTER COLUMN "${column}" DROP DEFAULT;`] : []),
    ...(original.default !== undefined
      ? [`ALTER TABLE ${t} ALTER COLUMN "${stale}" SET DEFAULT ${original.default};`]
      : []),
    ...(original.notNull ? [`ALTER TABLE ${t} ALTER COLUMN "${stale}" SET NOT NULL;`] : []),
    `ALTER TABLE ${t} RENAME COLUMN "${column}" TO "${fresh}";`,
    `ALTER TABLE ${t} RENAME COLUMN "${stale}" TO "${column}";`,
    syncTrigger,
  ];

  // contract: the old column and the function go
  const contract = [`ALTER TABLE ${t} DROP COLUMN "${stale}";`, `DROP FUNCTION ${fn};`];
  const restored = (await diffSnapshots(current, switched)).statements;
  const uncontract = [
    syncFunction,
    ...restored.flatMap((statement) =>
      statement.startsWith(`ALTER TABLE ${t} ADD COLUMN "${stale}"`)
        ? [statement, `UPDATE ${t} SET "${stale}" = "${column}"::${oldType};`]
        : [statement],
    ),
  ];

  const what = `${table.name}.${column} ${oldType} -> ${newType}`;
  const names = {
    switch: `"${fresh}" takes "${column}"'s name in the transaction that renames "${column}" away`,
  };
  return [
    {
      suffix: '_expand',
      message: `${message} (expand: ${what}, a new column kept equal by a trigger)`,
      noTransaction: false,
      from: rest,
      to: expanded,
      up: describeAll(expand, rest),
      down: unexpand,
      allowed: {},
    },
    {
      suffix: '_backfill',
      message: `${message} (backfill: existing rows in batches, then NOT NULL and indexes, online)`,
      noTransaction: true,
      from: expanded,
      to: filled,
      up: describeAll([backfill, ...finish.statements], expanded),
      down: (await diffOnline(filled, expanded)).statements,
      allowed: {},
    },
    {
      suffix: '_switch',
      message: `${message} (switch: the new column takes the name)`,
      noTransaction: false,
      from: filled,
      to: switched,
      up: describeAll(swap, filled),
      down: unswap,
      allowed: {
        'renaming-column': `expand/contract switch: ${names.switch}, so the running release keeps reading and writing "${column}" (now ${newType})`,
      },
    },
    {
      suffix: '_contract',
      message: `${message} (contract: the old column dropped)`,
      noTransaction: false,
      from: switched,
      to: current,
      up: describeAll(contract, switched),
      down: uncontract,
      allowed: {
        'ban-drop-column': `expand/contract: "${stale}" is "${column}" from before the switch, which no release reads since`,
      },
    },
  ];
}
