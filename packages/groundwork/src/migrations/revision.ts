import {
  diffSnapshots,
  parseRename,
  type Rename,
  reverseRename,
  snapshotFromSchema,
  snapshotsEqual,
} from './diff.ts';
import {
  latestSnapshot,
  nextId,
  readMigrations,
  STATEMENT_BREAKPOINT,
  slugify,
  writeMigration,
} from './folder.ts';

export interface RevisionOptions {
  message: string;
  /** Diff the schema module against the last snapshot; otherwise an empty, hand-written migration. */
  autogenerate: boolean;
  /** `table.old=new` or `old_table=new_table`. */
  renames?: string[];
  now?: Date;
}

export interface RevisionResult {
  /** Folder written; undefined when autogenerate found nothing to do. */
  dir: string | undefined;
  changes: string[];
  dataLoss: string[];
}

const joinStatements = (statements: string[]) =>
  statements.map((s) => (s.trimEnd().endsWith(';') ? s : `${s};`)).join(`\n${STATEMENT_BREAKPOINT}\n`);

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
  const previous = latestSnapshot(migrations);
  const name = `${nextId(migrations, options.now)}_${slugify(message)}`;
  const header = `-- ${message.replace(/\n/g, ' ')}\n`;

  if (!options.autogenerate) {
    const dir = writeMigration(migrationsDir, name, {
      up: `${header}-- Hand-written migration: put statements here, separated by lines "${STATEMENT_BREAKPOINT}".\n`,
      down: `-- Reverse of ${name}: undo up.sql here, or replace this file's first line with\n-- "-- irreversible: <why>" if it cannot be undone.\n`,
      snapshot: { ...previous, id: crypto.randomUUID(), prevId: previous.id },
    });
    return { dir, changes: [], dataLoss: [] };
  }

  const current = snapshotFromSchema(schema);
  if (renames.length === 0 && snapshotsEqual(previous, current))
    return { dir: undefined, changes: [], dataLoss: [] };
  const up = await diffSnapshots(previous, current, { renames });
  const down = await diffSnapshots(current, previous, { renames: renames.map(reverseRename) });
  if (up.statements.length === 0) return { dir: undefined, changes: [], dataLoss: [] };
  const warning = up.dataLoss.length
    ? `-- WARNING: data loss: ${up.dataLoss.join('; ')}\n-- If this is a rename, regenerate with --rename to keep the data.\n`
    : '';
  const dir = writeMigration(migrationsDir, name, {
    up: `${header}${warning}${joinStatements(up.statements)}\n`,
    down: down.statements.length ? `${joinStatements(down.statements)}\n` : '-- nothing to undo\n',
    snapshot: { ...current, prevId: previous.id },
  });
  return { dir, changes: up.changes, dataLoss: up.dataLoss };
}
