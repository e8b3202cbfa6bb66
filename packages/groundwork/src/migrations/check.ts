import type { DatabaseHandle } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import { type CatalogDifference, catalogDefinitions, compareCatalogs } from './catalog.ts';
import { diffSnapshots, type Snapshot, snapshotFromSchema, snapshotsEqual } from './diff.ts';
import { EMPTY_TEMPLATE, latestSnapshot, readMigrations } from './folder.ts';
import { headsProblem, readLineage } from './lineage.ts';
import { formatFinding, isBlocking, lintMigrationsFolder } from './lint.ts';
import { editedMigrations, readState, upgrade } from './runner.ts';
import { type ShadowSource, withShadowDatabase } from './shadow.ts';

export interface CheckProblem {
  kind:
    | 'uncaptured_schema_change'
    | 'multiple_heads'
    | 'empty_migration'
    | 'missing_down'
    | 'edited_migration'
    | 'pending_migrations'
    | 'drift'
    | 'lint';
  message: string;
}

/** Folder-only checks: schema.ts against the last snapshot, and every migration reversible or marked. */
export async function checkFolder(
  migrationsDir: string,
  schema: Record<string, unknown>,
): Promise<CheckProblem[]> {
  const problems: CheckProblem[] = [];
  const migrations = readMigrations(migrationsDir);
  const heads = headsProblem(readLineage(migrations));
  // with two heads the newest snapshot is one branch's: a diff against it would re-add the other's changes
  if (heads) problems.push({ kind: 'multiple_heads', message: heads });
  else problems.push(...(await uncapturedChanges(latestSnapshot(migrations), schema)));
  for (const migration of migrations) {
    if (migration.up.statements.length === 0 && migration.up.text.includes(`-- ${EMPTY_TEMPLATE}:`)) {
      problems.push({
        kind: 'empty_migration',
        message: `${migration.up.file} is the unedited --empty template (it would apply as a silent no-op): write its statements, or delete ${migration.dir}`,
      });
    }
    if (!migration.down) {
      problems.push({
        kind: 'missing_down',
        message: `${migration.dir} has no down.sql: write the reverse, or one starting "-- irreversible: <why>"`,
      });
    }
  }
  for (const finding of (await lintMigrationsFolder(migrationsDir)).filter(isBlocking)) {
    problems.push({ kind: 'lint', message: formatFinding(finding) });
  }
  return problems;
}

async function uncapturedChanges(
  snapshot: Snapshot,
  schema: Record<string, unknown>,
): Promise<CheckProblem[]> {
  const current = snapshotFromSchema(schema);
  if (snapshotsEqual(snapshot, current)) return [];
  const { changes } = await diffSnapshots(snapshot, current);
  return [
    {
      kind: 'uncaptured_schema_change',
      message:
        `schema.ts has changes not captured in a migration: ${changes.join('; ') || 'snapshot differs'}. ` +
        'Run: revision -m "<message>" --autogenerate',
    },
  ];
}

/**
 * Database checks: edited applied migrations, pending ones, and drift: the live schema against a shadow
 * database built from the migrations, compared as PostgreSQL prints each object. schema.ts against the
 * migrations is `checkFolder`'s part.
 */
export async function checkDatabase(
  handle: DatabaseHandle,
  migrationsDir: string,
  shadow: ShadowSource,
): Promise<CheckProblem[]> {
  const problems: CheckProblem[] = [];
  const state = await readState(handle, migrationsDir);
  for (const migration of editedMigrations(state)) {
    problems.push({
      kind: 'edited_migration',
      message: `${migration.up.file} was edited after it was applied (checksum differs): revert it and add a new migration`,
    });
  }
  if (state.pending.length > 0) {
    problems.push({
      kind: 'pending_migrations',
      message: `the database is not at head: ${state.pending.length} pending (${state.pending.map((m) => m.name).join(', ')}); run upgrade`,
    });
    return problems;
  }
  const live = await definitionsOf(handle);
  const expected = await withShadowDatabase(shadow, async (scratch) => {
    await upgrade(scratch, migrationsDir);
    return definitionsOf(scratch);
  });
  for (const difference of compareCatalogs(live, expected)) {
    problems.push({ kind: 'drift', message: driftMessage(difference) });
  }
  return problems;
}

async function definitionsOf(handle: DatabaseHandle): Promise<Map<string, string>> {
  return withSession(handle, async (session) => {
    return await catalogDefinitions(session);
  });
}

function driftMessage({ object, live, expected }: CatalogDifference): string {
  if (expected === undefined) return `${object} is in the live database but not in the migrations`;
  if (live === undefined) return `${object} is in the migrations but missing from the live database`;
  return `${object} differs: the live database has ${show(live)}, the migrations give ${show(expected)}`;
}

const show = (definition: string) => (definition ? `\`${definition.replace(/\s+/g, ' ').trim()}\`` : 'none');
