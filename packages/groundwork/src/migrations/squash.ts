import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCatalogs } from './catalog.ts';
import { catalogBuiltFrom } from './check.ts';
import { MigrationError } from './errors.ts';
import {
  ALLOW_ANNOTATION,
  type Migration,
  readMigrations,
  readSnapshot,
  STATEMENT_BREAKPOINT,
  writeMigration,
} from './folder.ts';
import { headsProblem, parentsOf, readLineage } from './lineage.ts';
import type { ShadowSource } from './shadow.ts';

export interface SquashResult {
  dir: string;
  id: string;
  /** The folders replaced, oldest first. */
  replaced: string[];
}

/**
 * Replaces the migrations `from`..`to` (ids or folder names, inclusive) with one: their up statements in
 * order in one transaction, their downs in reverse (irreversible when one is), the last one's snapshot, and
 * replaces.json naming each original with its checksum, so a database that applied them has applied it.
 * Written only when a fresh database built from the squashed folder equals one built from the original.
 */
export async function squash(
  dir: string,
  from: string,
  to: string,
  shadow: ShadowSource,
): Promise<SquashResult> {
  const migrations = readMigrations(dir);
  const heads = headsProblem(readLineage(migrations));
  if (heads) throw new MigrationError(`Nothing was squashed: ${heads}.`);
  const find = (target: string) => {
    const index = migrations.findIndex((m) => m.id === target || m.name === target);
    if (index < 0) throw new MigrationError(`Unknown migration "${target}" in ${dir} (see \`history\`).`);
    return index;
  };
  const run = migrations.slice(find(from), find(to) + 1);
  if (run.length < 2) {
    throw new MigrationError(
      `squash needs at least two migrations, ${from} first and ${to} last (oldest first)`,
    );
  }
  const already = run.find((m) => m.replaces.length > 0);
  if (already) {
    throw new MigrationError(
      `${already.dir} is a squash already: squash a run before or after it (a database may have applied either form)`,
    );
  }
  const first = run[0]!;
  const last = run.at(-1)!;
  const parents = parentsOf(snapshotOf(first));
  const merge = run.find((m) => parentsOf(snapshotOf(m)).length > 1);
  if (merge || parents.length !== 1) {
    throw new MigrationError(`${(merge ?? first).dir} is a merge revision: squash a run without one`);
  }
  const name = `${last.id}_squash_of_${run.length}_migrations`;
  const files = {
    up: squashedUp(run),
    down: squashedDown(run),
    snapshot: { ...snapshotOf(last), prevId: parents[0]! },
    replaces: run.map((m) => ({ id: m.id, checksum: m.checksum })),
  };

  const scratch = mkdtempSync(join(tmpdir(), 'groundwork-squash-'));
  try {
    const trial = join(scratch, 'migrations');
    cpSync(dir, trial, { recursive: true });
    replaceRun(trial, run, name, files);
    await assertSameSchema(dir, trial, shadow);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { dir: replaceRun(dir, run, name, files), id: last.id, replaced: run.map((m) => m.dir) };
}

function snapshotOf(migration: Migration) {
  const snapshot = readSnapshot(migration);
  if (!snapshot)
    throw new MigrationError(`${migration.snapshotFile} is missing; restore it from version control`);
  return snapshot;
}

/** Writes the squashed migration beside the run (its name differs from each), then removes the run. */
function replaceRun(
  dir: string,
  run: Migration[],
  name: string,
  files: Parameters<typeof writeMigration>[2],
) {
  const written = writeMigration(dir, name, files);
  for (const migration of run) rmSync(join(dir, migration.name), { recursive: true, force: true });
  return written;
}

/** One transaction: an index the run built CONCURRENTLY (online, outside one) is built plainly here. */
const inTransaction = (statement: string) =>
  statement
    .replace(/^(CREATE (?:UNIQUE )?INDEX) CONCURRENTLY /im, '$1 ')
    .replace(/^DROP INDEX CONCURRENTLY /im, 'DROP INDEX ');

function squashedUp(run: Migration[]): string {
  const allows = [
    ...new Set(
      run.flatMap((m) =>
        m.up.text
          .split('\n')
          .filter((line) => ALLOW_ANNOTATION.test(line))
          .map((l) => l.trim()),
      ),
    ),
  ];
  const header = [
    `-- squash of ${run.length} migrations, ${run[0]!.name} to ${run.at(-1)!.name} (replaces.json names them)`,
    ...allows,
  ];
  const statements = run.flatMap((m) => m.up.statements.map(inTransaction));
  return `${header.join('\n')}\n${statements.join(`\n${STATEMENT_BREAKPOINT}\n`)}\n`;
}

function squashedDown(run: Migration[]): string {
  const blocked = run.filter((m) => !m.down || m.irreversible !== undefined);
  if (blocked.length > 0) {
    const why = blocked.map((m) => `${m.name}: ${m.irreversible ?? 'no down.sql'}`).join('; ');
    return `-- irreversible: squashed from migrations that cannot be reverted (${why})\n`;
  }
  const statements = [...run].reverse().flatMap((m) => m.down!.statements.map(inTransaction));
  return `-- Reverse of the squash, newest original first\n${statements.join(`\n${STATEMENT_BREAKPOINT}\n`)}\n`;
}

async function assertSameSchema(original: string, squashed: string, shadow: ShadowSource): Promise<void> {
  let built: Map<string, string>;
  try {
    built = await catalogBuiltFrom(squashed, shadow);
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    throw new MigrationError(
      `Nothing was squashed: the squashed migration fails on a fresh database (${(error as Error).message}). ` +
        'Squash a shorter run, leaving out the migration that needs its own transaction.',
    );
  }
  const differences = compareCatalogs(built, await catalogBuiltFrom(original, shadow));
  if (differences.length > 0) {
    throw new MigrationError(
      `Nothing was squashed: a fresh database built from the squashed folder would differ: ${differences
        .map((d) => d.object)
        .join(', ')}`,
    );
  }
}
