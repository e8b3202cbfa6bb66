import { basename } from 'node:path';
import {
  type DiffResult,
  diffSnapshots,
  parseRename,
  type Rename,
  reverseRename,
  type Snapshot,
  snapshotFromSchema,
  snapshotsEqual,
} from './diff.ts';
import {
  EMPTY_TEMPLATE,
  latestSnapshot,
  type Migration,
  nextId,
  readMigrations,
  STATEMENT_BREAKPOINT,
  slugify,
  writeMigration,
} from './folder.ts';
import { headsProblem, type Lineage, mergeHeads, readLineage } from './lineage.ts';

export interface RevisionOptions {
  message: string;
  /** Diff the schema module against the last snapshot; otherwise an empty, hand-written migration. */
  autogenerate: boolean;
  /** Join the heads of branches merged without a merge revision (autogenerate is ignored). */
  merge?: boolean;
  /** `table.old=new` or `old_table=new_table`. */
  renames?: string[];
  now?: Date;
}

export interface RevisionResult {
  /** Folder written; undefined when autogenerate found nothing to do. */
  dir: string | undefined;
  changes: string[];
  dataLoss: string[];
  /** Statements that fail or surprise on a table with rows, found at generation time. */
  warnings: string[];
}

const ADD_REQUIRED_COLUMN = /^ALTER TABLE ((?:"[^"]+"\.)?"([^"]+)") ADD COLUMN "([^"]+)" (.+) NOT NULL;$/s;

/** ADD COLUMN ... NOT NULL with nothing to fill existing rows (no default, identity, serial or key). */
function requiredColumnWithoutValue(statement: string): RegExpExecArray | undefined {
  const match = ADD_REQUIRED_COLUMN.exec(statement);
  if (!match || /\b(DEFAULT|GENERATED|PRIMARY KEY)\b|^(small|big)?serial\b/i.test(match[4]!))
    return undefined;
  return match;
}

/**
 * A down that re-adds a dropped NOT NULL column cannot run on a table with rows (the values are gone):
 * it comes back nullable, and says so.
 */
function populatedTableSafe(statements: string[]): string[] {
  return statements.map((statement) => {
    const match = requiredColumnWithoutValue(statement);
    if (!match) return statement;
    const [, table, , column, type] = match;
    return (
      `-- groundwork: "${column}" comes back nullable: its values were dropped and existing rows have none.\n` +
      `-- Backfill it and SET NOT NULL in a new migration if the older code needs it.\n` +
      `ALTER TABLE ${table} ADD COLUMN "${column}" ${type};`
    );
  });
}

function requiredColumnWarnings(statements: string[]): string[] {
  return statements.flatMap((statement) => {
    const match = requiredColumnWithoutValue(statement);
    return match
      ? [
          `adding NOT NULL column ${match[2]}.${match[3]} without a default fails if ${match[2]} has rows: ` +
            'give it a default, or add it nullable, backfill, then SET NOT NULL',
        ]
      : [];
  });
}

const joinStatements = (statements: string[]) =>
  statements.map((s) => (s.trimEnd().endsWith(';') ? s : `${s};`)).join(`\n${STATEMENT_BREAKPOINT}\n`);

/** A drop and an add of the same kind (table or column) in one revision may be a rename. */
export function mayBeRename(changes: string[]): boolean {
  return ['table', 'column'].some(
    (kind) =>
      changes.some((c) => c.startsWith(`drop ${kind} `)) &&
      changes.some((c) => c.startsWith(`create ${kind} `) || c.startsWith(`add ${kind} `)),
  );
}

const nothingToDo: RevisionResult = { dir: undefined, changes: [], dataLoss: [], warnings: [] };

/** Creates a migration folder; generation never prompts and writes nothing on an error. */
export async function createRevision(
  migrationsDir: string,
  schema: Record<string, unknown>,
  options: RevisionOptions,
): Promise<RevisionResult> {
  const message = options.message.trim();
  if (!message) throw new Error('A revision needs a message: revision -m "what it does"');
  const renames: Rename[] = (options.renames ?? []).map(parseRename);
  const migrations = readMigrations(migrationsDir, { mayBeMissing: true });
  const lineage = readLineage(migrations);
  const name = `${nextId(migrations, options.now)}_${slugify(message)}`;
  const header = `-- ${message.replace(/\n/g, ' ')}\n`;
  if (options.merge) return writeMergeRevision(migrationsDir, name, header, lineage, migrations);
  const heads = headsProblem(lineage);
  if (heads) throw new Error(`Cannot write a revision on top of one branch: ${heads}`);
  const previous = latestSnapshot(migrations);

  if (!options.autogenerate) {
    const dir = writeMigration(migrationsDir, name, {
      up: `${header}-- ${EMPTY_TEMPLATE}: put statements here, separated by lines "${STATEMENT_BREAKPOINT}".\n`,
      down: `-- Reverse of ${name}: undo up.sql here, or replace this file's first line with\n-- "-- irreversible: <why>" if it cannot be undone.\n`,
      snapshot: { ...previous, id: crypto.randomUUID(), prevId: previous.id },
    });
    return { dir, changes: [], dataLoss: [], warnings: [] };
  }

  const current = snapshotFromSchema(schema);
  if (renames.length === 0 && snapshotsEqual(previous, current)) return nothingToDo;
  const up = await diffSnapshots(previous, current, { renames });
  if (up.statements.length === 0) return nothingToDo;
  const used = newEnumValuesUsed(up.statements);
  if (used.length === 0)
    return writeAutogenerated(migrationsDir, name, header, previous, current, renames, up);

  // PostgreSQL refuses a new enum value used in the transaction that added it: the values go first, alone.
  const [id, slug] = [name.slice(0, 14), name.slice(15)];
  const values: Snapshot = { ...withAddedEnumValues(previous, current), id: crypto.randomUUID() };
  const first = await writeAutogenerated(
    migrationsDir,
    `${id}_${slug.slice(0, 47)}_enum_values`,
    `-- ${message.replace(/\n/g, ' ')} (new enum values, split out)\n`,
    previous,
    values,
    [],
  );
  const rest = await writeAutogenerated(
    migrationsDir,
    `${BigInt(id) + 1n}_${slug}`,
    header,
    values,
    current,
    renames,
  );
  return {
    ...rest,
    changes: [...first.changes, ...rest.changes],
    warnings: [
      ...rest.warnings,
      `enum value(s) ${used.join(', ')} are added and used in one revision, which PostgreSQL refuses in one ` +
        `transaction: split into ${basename(first.dir!)} (the new values) and ${basename(rest.dir!)} (the rest)`,
    ],
  };
}

/** Writes one autogenerated migration from `from` to `to` (`up` when already computed). */
async function writeAutogenerated(
  migrationsDir: string,
  name: string,
  header: string,
  from: Snapshot,
  to: Snapshot,
  renames: Rename[],
  computedUp?: DiffResult,
): Promise<RevisionResult> {
  const up = computedUp ?? (await diffSnapshots(from, to, { renames }));
  const down = await diffSnapshots(to, from, { renames: renames.map(reverseRename) });
  const warnings = requiredColumnWarnings(up.statements);
  const comments = [
    ...(up.dataLoss.length ? [`data loss: ${up.dataLoss.join('; ')}`] : []),
    ...(mayBeRename(up.changes)
      ? ['If a drop + add above is a rename, regenerate with --rename to keep the data.']
      : []),
    ...warnings,
  ].map((line) => `-- WARNING: ${line}\n`);
  const downStatements = populatedTableSafe(down.statements);
  const dir = writeMigration(migrationsDir, name, {
    up: `${header}${comments.join('')}${joinStatements(up.statements)}\n`,
    down: downStatements.length ? `${joinStatements(downStatements)}\n` : '-- nothing to undo\n',
    snapshot: { ...to, prevId: from.id },
  });
  return { dir, changes: up.changes, dataLoss: up.dataLoss, warnings };
}

const ADD_ENUM_VALUE = /^ALTER TYPE (\S+) ADD VALUE '((?:[^']|'')*)'/;

/** Enum values an ADD VALUE statement adds and a later statement of the same migration uses. */
function newEnumValuesUsed(statements: string[]): string[] {
  return statements.flatMap((statement, index) => {
    const match = ADD_ENUM_VALUE.exec(statement);
    if (!match) return [];
    const literal = `'${match[2]}'`;
    return statements.slice(index + 1).some((later) => later.includes(literal))
      ? [`${match[1]!.replaceAll('"', '')}.${match[2]}`]
      : [];
  });
}

/** `previous` with the enums of `current` that only gained values. */
function withAddedEnumValues(previous: Snapshot, current: Snapshot): Snapshot {
  const mid = structuredClone(previous);
  for (const [key, target] of Object.entries(current.enums ?? {})) {
    const before = mid.enums?.[key];
    if (before?.values.every((value) => target.values.includes(value))) {
      mid.enums[key] = structuredClone(target);
    }
  }
  return mid;
}

/**
 * A revision with no SQL whose snapshot is the three-way union of the heads: each branch's migrations still
 * run on their own, and the next autogenerate diffs against both branches' changes.
 */
function writeMergeRevision(
  migrationsDir: string,
  name: string,
  header: string,
  lineage: Lineage,
  migrations: Migration[],
): RevisionResult {
  if (lineage.heads.length < 2) throw new Error('Nothing to merge: the migrations have a single head.');
  const parents = lineage.heads.map((m) => lineage.nodes.get(m.id)!.id);
  const merged = mergeHeads(lineage, migrations);
  const names = lineage.heads.map((m) => m.name).join(' and ');
  const dir = writeMigration(migrationsDir, name, {
    up: `${header}-- Merge revision of ${names}: their migrations run on their own; this one only joins them.\n`,
    down: '-- Merge revision: nothing to undo.\n',
    snapshot: { ...merged, id: crypto.randomUUID(), prevId: parents[0], prevIds: parents },
  });
  return { dir, changes: [`merge ${names}`], dataLoss: [], warnings: [] };
}
