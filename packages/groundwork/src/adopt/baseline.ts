import { rmSync } from 'node:fs';
import type { DatabaseHandle, SqlSession } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import { METADATA_TABLE, readApplied } from '../migrations/bookkeeping.ts';
import { ALEMBIC_TABLE, catalogDefinitions, compareCatalogs } from '../migrations/catalog.ts';
import { catalogBuiltFrom } from '../migrations/check.ts';
import { emptySnapshot, snapshotFromSchema } from '../migrations/diff.ts';
import { MigrationError } from '../migrations/errors.ts';
import { nextId, readMigrations, STATEMENT_BREAKPOINT, writeMigration } from '../migrations/folder.ts';
import { stamp } from '../migrations/runner.ts';
import type { ShadowSource } from '../migrations/shadow.ts';
import { schemaStatements } from './pull.ts';
import { unexpressedObjects } from './unexpressed.ts';

/** The metadata key under which the Alembic revision a baseline replaced is kept. */
export const ALEMBIC_REVISION_KEY = 'replaced_alembic_revision';

export interface BaselineOptions {
  shadow: ShadowSource;
  environment: string;
  message?: string;
  now?: Date;
  log?: (line: string) => void;
}

export interface BaselineResult {
  dir: string;
  id: string;
  /** Objects schema.ts cannot express, kept as hand-written SQL in the baseline. */
  handWritten: string[];
  /** The Alembic revision (or heads, comma-separated) the baseline replaced; undefined without alembic_version. */
  alembicRevision: string | undefined;
}

export const IRREVERSIBLE_BASELINE =
  'the baseline of an adopted database: reverting it would drop every table with its rows. Restore a backup instead.';

/**
 * Starts the migration history of a database made by other means: a first migration whose up.sql makes the
 * current schema (schema.ts's SQL plus the live definition of what schema.ts cannot express), whose down.sql
 * refuses, recorded as applied without running. Refused, with nothing written, when the folder or the
 * database already has migrations, or when a database built from the folder would differ from the live one.
 */
export async function baseline(
  handle: DatabaseHandle,
  migrationsDir: string,
  schema: Record<string, unknown>,
  options: BaselineOptions,
): Promise<BaselineResult> {
  const existing = readMigrations(migrationsDir, { mayBeMissing: true });
  if (existing.length > 0) {
    throw new MigrationError(
      `${migrationsDir} already has ${existing.length} migration(s): a baseline starts a history. ` +
        'On a database made by these migrations, use upgrade or stamp instead.',
    );
  }
  const { applied, alembicRevision } = await withSession(handle, async (session) => ({
    applied: await readApplied(session),
    alembicRevision: await alembicRevisionOf(session),
  }));
  if (applied.length > 0) {
    throw new MigrationError(
      `the database already records ${applied.length} Groundwork migration(s): it needs no baseline. ` +
        'Restore the migrations folder from version control instead.',
    );
  }
  const statements = await schemaStatements(schema);
  const extra = await unexpressedObjects(handle, options.shadow, statements);
  if (extra.unresolved.length > 0) {
    throw new MigrationError(
      `nothing was written: schema.ts and the live database differ where no SQL kept by hand can make them equal:\n` +
        `${extra.unresolved.map((line) => `  ${line}`).join('\n')}\nFix schema.ts (or pull it again) and rerun baseline.`,
    );
  }
  const id = nextId([], options.now);
  const message = options.message ?? 'baseline of the existing database';
  const header = [
    `-- ${message}`,
    '-- Recorded as applied on the database it was taken from (groundwork db baseline); a fresh database runs it.',
    ...(alembicRevision
      ? [`-- Replaces Alembic revision ${alembicRevision}; ${ALEMBIC_TABLE} stays until you drop it.`]
      : []),
  ];
  const handWritten = extra.after.length
    ? ['-- Kept by hand: what schema.ts cannot express, as the live database defines it.', ...extra.after]
    : [];
  const up = [...extra.before, ...statements, ...handWritten].join(`\n${STATEMENT_BREAKPOINT}\n`);
  const dir = writeMigration(migrationsDir, `${id}_baseline`, {
    up: `${header.join('\n')}\n${up}\n`,
    down: `-- irreversible: ${IRREVERSIBLE_BASELINE}\n`,
    snapshot: { ...snapshotFromSchema(schema), id: crypto.randomUUID(), prevId: emptySnapshot().id },
  });
  try {
    await assertRebuildsLive(handle, migrationsDir, options.shadow);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  await stamp(handle, migrationsDir, 'head', { environment: options.environment, log: options.log });
  if (alembicRevision) {
    await withSession(handle, (session) =>
      session.query(
        `insert into ${METADATA_TABLE} (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value, updated_at = now()`,
        [ALEMBIC_REVISION_KEY, alembicRevision],
      ),
    );
  }
  return { dir, id, handWritten: extra.objects, alembicRevision };
}

/** A database built from the folder must equal the live one, as `check` compares them. */
async function assertRebuildsLive(handle: DatabaseHandle, dir: string, shadow: ShadowSource): Promise<void> {
  const live = await withSession(handle, catalogDefinitions);
  const built = await catalogBuiltFrom(dir, shadow);
  const differences = compareCatalogs(live, built);
  if (differences.length > 0) {
    throw new MigrationError(
      `nothing was written: a database built from the baseline would differ from the live one:\n` +
        differences
          .map((d) => `  ${d.object}: live ${d.live ?? 'none'}, built ${d.expected ?? 'none'}`)
          .join('\n'),
    );
  }
}

/** The revision(s) alembic_version holds, when the table is there (on the search path). */
async function alembicRevisionOf(session: SqlSession): Promise<string | undefined> {
  const [found] = await session.query<{ exists: boolean }>(
    `select to_regclass('${ALEMBIC_TABLE}') is not null as "exists"`,
  );
  if (!found?.exists) return undefined;
  const rows = await session.query<{ version_num: string }>(
    `select version_num from ${ALEMBIC_TABLE} order by version_num`,
  );
  return rows.map((row) => row.version_num).join(',') || undefined;
}
