import type { DatabaseHandle } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import { type CatalogDifference, catalogDefinitions, compareCatalogs } from './catalog.ts';
import { diffSnapshots, type Snapshot, snapshotFromSchema, snapshotsEqual } from './diff.ts';
import { EMPTY_TEMPLATE, latestSnapshot, readMigrations } from './folder.ts';
import { invalidIndexes } from './indexes.ts';
import { gapProblem, headsProblem, readLineage } from './lineage.ts';
import { formatFinding, isBlocking, lintMigrationsFolder } from './lint.ts';
import { editedScripts, readState, unknownAppliedProblem } from './plan.ts';
import { upgrade } from './runner.ts';
import { type ShadowSource, withShadowDatabase } from './shadow.ts';

export interface CheckProblem {
  kind:
    | 'uncaptured_schema_change'
    | 'multiple_heads'
    | 'missing_migration'
    | 'invalid_index'
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
  const lineage = readLineage(migrations);
  const heads = headsProblem(lineage);
  // with two heads the newest snapshot is one branch's: a diff against it would re-add the other's changes
  if (heads)
    problems.push({ kind: gapProblem(lineage) ? 'missing_migration' : 'multiple_heads', message: heads });
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
 * Database checks: applied migrations the folder lacks, edited applied scripts (up.sql and down.sql), INVALID
 * indexes, pending migrations, and drift: the live schema against a shadow database built from the
 * migrations, compared as PostgreSQL prints each object. schema.ts against the migrations is `checkFolder`'s
 * part.
 */
export async function checkDatabase(
  handle: DatabaseHandle,
  migrationsDir: string,
  shadow: ShadowSource,
): Promise<CheckProblem[]> {
  const problems: CheckProblem[] = [];
  const state = await readState(handle, migrationsDir);
  const unknown = unknownAppliedProblem(state, migrationsDir);
  if (unknown) problems.push({ kind: 'missing_migration', message: unknown });
  for (const edit of editedScripts(state)) {
    problems.push({
      kind: 'edited_migration',
      message:
        edit.direction === 'up'
          ? `${edit.file} was edited after it was applied (checksum differs): revert it and add a new migration`
          : `${edit.file} was edited after its migration was applied (checksum differs): revert it, or, if the edit fixes the reverse of what ran, re-record the checksums with \`stamp ${state.current}\``,
    });
  }
  for (const index of await withSession(handle, (session) => invalidIndexes(session))) {
    problems.push({
      kind: 'invalid_index',
      message:
        `index ${index.schema}.${index.name} on ${index.table} is INVALID (a failed CREATE INDEX CONCURRENTLY leaves one: ` +
        `queries never use it, every write still updates it): drop it with DROP INDEX CONCURRENTLY IF EXISTS ` +
        `"${index.schema}"."${index.name}", fix the cause, and build it again`,
    });
  }
  if (unknown) return problems;
  if (state.pending.length > 0) {
    problems.push({
      kind: 'pending_migrations',
      message: `the database is not at head: ${state.pending.length} pending (${state.pending.map((m) => m.name).join(', ')}); run upgrade`,
    });
    return problems;
  }
  const live = await definitionsOf(handle);
  const expected = await catalogBuiltFrom(migrationsDir, shadow);
  for (const difference of compareCatalogs(live, expected)) {
    problems.push({ kind: 'drift', message: driftMessage(difference) });
  }
  return problems;
}

/** The catalog of a scratch database upgraded from the folder (see catalogDefinitions). */
export function catalogBuiltFrom(migrationsDir: string, shadow: ShadowSource): Promise<Map<string, string>> {
  return withShadowDatabase(shadow, async (scratch) => {
    await upgrade(scratch, migrationsDir);
    return definitionsOf(scratch);
  });
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
