import { join } from 'node:path';
import type { DatabaseHandle } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import { type AppliedRow, readApplied } from './bookkeeping.ts';
import { MigrationError } from './errors.ts';
import { type Migration, readMigrations } from './folder.ts';
import { fromMergedBranch, headsProblem, type Lineage, readLineage } from './lineage.ts';

export type Direction = 'up' | 'down';

export interface MigrationState {
  migrations: Migration[];
  applied: AppliedRow[];
  pending: Migration[];
  current: string | null;
  head: string | null;
}

/** Reads the migration table and folder without changing anything. */
export function readState(handle: DatabaseHandle, dir: string): Promise<MigrationState> {
  return withSession(handle, async (session) => stateOf(readMigrations(dir), await readApplied(session)));
}

export function stateOf(migrations: Migration[], rows: AppliedRow[]): MigrationState {
  const applied = withSquashesApplied(migrations, rows);
  const appliedIds = new Set(applied.map((row) => row.id));
  return {
    migrations,
    applied,
    pending: migrations.filter((m) => !appliedIds.has(m.id)),
    current: applied.at(-1)?.id ?? null,
    head: migrations.at(-1)?.id ?? null,
  };
}

/**
 * A database that applied every original of a squashed migration (and not the squashed one itself) has
 * applied it: their rows read as one row of the squashed migration, at the place of its last original. Its
 * checksum is the squashed one when every original ran as recorded in replaces.json, else none (`edited`).
 * A database that applied only some originals keeps their rows, which the folder does not know.
 */
function withSquashesApplied(migrations: Migration[], rows: AppliedRow[]): AppliedRow[] {
  let result = rows;
  for (const migration of migrations) {
    if (migration.replaces.length === 0) continue;
    const own = result.find((row) => row.id === migration.id);
    if (own && own.checksum === migration.checksum) continue;
    const originals = migration.replaces.map(({ id }) => result.find((row) => row.id === id));
    if (originals.some((row) => row === undefined)) continue;
    const asRecorded = migration.replaces.every(({ checksum }, i) => originals[i]!.checksum === checksum);
    const last = originals.at(-1)!;
    const ids = new Set(migration.replaces.map(({ id }) => id));
    result = result
      .filter((row) => !ids.has(row.id) || row === last)
      .map((row) =>
        row === last
          ? {
              id: migration.id,
              checksum: asRecorded ? migration.checksum : '',
              down_checksum: null,
              applied_at: last.applied_at,
              execution_ms: originals.reduce((sum, r) => sum + r!.execution_ms, 0),
            }
          : row,
      );
  }
  return result;
}

/** Applied migrations the folder does not have (the database is ahead of this code). */
export function unknownApplied(state: MigrationState): AppliedRow[] {
  const known = new Set(state.migrations.map((m) => m.id));
  return state.applied.filter((row) => !known.has(row.id));
}

/** What to say when the database has migrations the folder lacks: their ids, and the way out. */
export function unknownAppliedProblem(state: MigrationState, dir: string): string | undefined {
  const unknown = unknownApplied(state);
  if (unknown.length === 0) return undefined;
  const squashed = state.migrations.filter((m) =>
    m.replaces.some(({ id }) => unknown.some((r) => r.id === id)),
  );
  if (squashed.length > 0) {
    return (
      `the database applied only part of the migrations ${squashed.map((m) => m.dir).join(', ')} squashed ` +
      `(${unknown.map((r) => r.id).join(', ')} of them): upgrade it with the release before the squash first, then with this one`
    );
  }
  return (
    `the database has ${unknown.length} applied migration(s) that are not in ${dir}: ${unknown.map((r) => r.id).join(', ')} ` +
    '(a folder was deleted, or this code is older than the database). Restore the folder(s) from version control, ' +
    'or deploy the newer code; `stamp` re-records the database at a revision the folder has'
  );
}

/** An applied migration's script that differs from the one recorded when it ran. */
export interface EditedScript {
  migration: Migration;
  direction: Direction;
  /** The file: up.sql or down.sql (a down.sql deleted since is named too). */
  file: string;
}

/**
 * Applied scripts whose checksum differs from the recorded one. up.sql is checked on every row; down.sql on
 * rows that recorded its checksum (legacy rows and migrations applied without a down.sql did not).
 */
export function editedScripts(state: MigrationState): EditedScript[] {
  const byId = new Map(state.migrations.map((m) => [m.id, m]));
  return state.applied.flatMap((row) => {
    const migration = byId.get(row.id);
    if (!migration) return [];
    const edited: EditedScript[] = [];
    if (migration.checksum !== row.checksum) {
      edited.push({ migration, direction: 'up', file: migration.up.file });
    }
    if (row.down_checksum !== null && migration.downChecksum !== row.down_checksum) {
      edited.push({
        migration,
        direction: 'down',
        file: migration.down?.file ?? join(migration.dir, 'down.sql'),
      });
    }
    return edited;
  });
}

/**
 * The down.sql checksums to record on legacy rows (id -> checksum): rows whose up.sql is unchanged and whose
 * migration has a down.sql now. From then on an edit of that down.sql is caught.
 */
export function legacyDowns(state: MigrationState): Map<string, string> {
  const byId = new Map(state.migrations.map((m) => [m.id, m]));
  const downs = new Map<string, string>();
  for (const row of state.applied) {
    const migration = byId.get(row.id);
    if (row.down_checksum === null && migration?.downChecksum && migration.checksum === row.checksum) {
      downs.set(row.id, migration.downChecksum);
    }
  }
  return downs;
}

/** A target names a migration by its id or its folder name. */
export function findMigration(state: MigrationState, target: string): Migration | undefined {
  return state.migrations.find((m) => m.id === target || m.name === target);
}

/** The migrations to run, in order, once every rule that would stop the run half-way has been checked. */
export function planSteps(
  state: MigrationState,
  dir: string,
  direction: Direction,
  target: string,
  options: { allowOutOfOrder?: boolean },
): Migration[] {
  const unknown = unknownAppliedProblem(state, dir);
  if (unknown) throw new MigrationError(`Nothing was run: ${unknown}.`);
  if (direction === 'down') {
    const steps = resolveDownTarget(state, target);
    assertReversible(steps);
    return steps;
  }
  const edited = editedScripts(state).filter((edit) => edit.direction === 'up');
  if (edited.length > 0) {
    throw new MigrationError(
      `Applied migration(s) changed since they ran: ${edited.map((edit) => edit.file).join(', ')}. ` +
        'Revert the edit and put the change in a new migration (`revision`).',
    );
  }
  const lineage = singleHead(state);
  const steps = resolveUpTarget(state, target);
  if (!options.allowOutOfOrder && state.current) {
    const applied = state.migrations.filter((m) => !state.pending.includes(m));
    const older = steps.filter((m) => m.id < state.current! && !fromMergedBranch(lineage, m, applied));
    if (older.length > 0) {
      throw new MigrationError(
        `Pending migration ${older[0]!.dir} is older than the applied head ${state.current}. ` +
          'Give it a newer timestamp, or pass --allow-out-of-order if applying it late is safe.',
      );
    }
  }
  return steps;
}

/** The revision the database is at once `steps` ran: an id, or null for base. */
export function revisionAfter(
  state: MigrationState,
  direction: Direction,
  steps: Migration[],
): string | null {
  if (direction === 'up') return steps.at(-1)?.id ?? state.current;
  return state.applied.filter((row) => !steps.some((m) => m.id === row.id)).at(-1)?.id ?? null;
}

/** Upgrading unmerged branches would apply both in id order and leave the schema of neither. */
function singleHead(state: MigrationState): Lineage {
  const lineage = readLineage(state.migrations);
  const problem = headsProblem(lineage);
  if (problem) throw new MigrationError(`Nothing was applied: ${problem}.`);
  return lineage;
}

function resolveUpTarget(state: MigrationState, target: string): Migration[] {
  if (target === 'head') return state.pending;
  const migration = findMigration(state, target);
  if (!migration) {
    throw new MigrationError(`Unknown target "${target}": use head or a migration id (see \`history\`).`);
  }
  return state.pending.filter((m) => m.id <= migration.id);
}

function resolveDownTarget(state: MigrationState, target: string): Migration[] {
  const appliedNewestFirst = [...state.applied]
    .reverse()
    .map((row) => state.migrations.find((m) => m.id === row.id)!);
  if (target === 'base') return appliedNewestFirst;
  const relative = /^-(\d+)$/.exec(target);
  if (relative) return appliedNewestFirst.slice(0, Number(relative[1]));
  const migration = findMigration(state, target);
  if (!migration) {
    throw new MigrationError(
      `Unknown target "${target}": use -1, -N, base or a migration id (see \`history\`).`,
    );
  }
  // Downgrading to an id keeps that migration applied, as in Alembic.
  return appliedNewestFirst.filter((m) => m.id > migration.id);
}

/** Checks the whole path before touching anything, so a downgrade never stops half-way on a known wall. */
function assertReversible(steps: Migration[]): void {
  for (const migration of steps) {
    if (!migration.down) {
      throw new MigrationError(
        `${migration.dir} has no down.sql, so it cannot be reverted. Write one, or add down.sql starting with ` +
          '"-- irreversible: <why>". Nothing was reverted.',
      );
    }
    if (migration.irreversible !== undefined) {
      throw new MigrationError(
        `${migration.down.file} is irreversible (${migration.irreversible}); downgrade stops before it. ` +
          'Nothing was reverted.',
      );
    }
  }
}
