import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  drizzleKitPull,
  fixPulledSchema,
  type IndexOperatorClasses,
  PullError,
} from '../adapters/drizzle-kit-pull.ts';
import type { Settings } from '../config.ts';
import type { DatabaseHandle } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import { METADATA_TABLE, MIGRATIONS_TABLE } from '../migrations/bookkeeping.ts';
import { ALEMBIC_TABLE } from '../migrations/catalog.ts';
import { diffSnapshots, emptySnapshot, snapshotFromSchema } from '../migrations/diff.ts';
import { latestSnapshot, readMigrations } from '../migrations/folder.ts';
import type { ShadowSource } from '../migrations/shadow.ts';
import { withSnapshotSpelling } from './spelling.ts';
import { type Unexpressed, unexpressedObjects } from './unexpressed.ts';

export { PullError };

export interface PullOptions {
  settings: Pick<Settings, 'databaseUrl' | 'directUrl' | 'dataDir'>;
  /** PostgreSQL schemas to read; drizzle-kit's default is `public`. */
  schemas: readonly string[];
  /** Where schema.ts goes. */
  outFile: string;
  /** Replace an existing file that differs. */
  force?: boolean;
  /** `indexOperatorClasses` of the database, read before (an embedded one cannot be open during the pull). */
  operatorClasses: IndexOperatorClasses;
}

/** Tables that belong to the migration tools, never to the app's schema. */
const TOOL_TABLES = [MIGRATIONS_TABLE, METADATA_TABLE, ALEMBIC_TABLE];

const HEADER = `// Written by \`groundwork db pull\` from the live database: edit it freely from here on.
// What Drizzle cannot express (see \`groundwork db pull\`'s output) lives in the baseline migration as SQL.
`;

/**
 * Writes the live database's schema as a Drizzle schema.ts (drizzle-kit's introspection, fixed where it is
 * wrong). Nothing is written when drizzle-kit fails, or when `outFile` holds something else and `force` is off.
 */
export async function pullSchema(options: PullOptions): Promise<{ file: string; text: string }> {
  const { settings, outFile } = options;
  const pulled = await drizzleKitPull({
    url: settings.directUrl ?? settings.databaseUrl,
    dataDir: settings.dataDir,
    schemas: options.schemas,
    excludeTables: TOOL_TABLES,
  });
  const text = `${HEADER}${fixPulledSchema(pulled, options.operatorClasses)}`;
  if (existsSync(outFile) && !options.force && readFileSync(outFile, 'utf8') !== text) {
    throw new PullError(
      `${outFile} exists: move it aside, or pass --force to replace it with the schema pulled from the database`,
    );
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  return { file: outFile, text };
}

/** Each index's operator classes as drizzle-kit's output needs them fixed (see IndexOperatorClasses). */
export async function indexOperatorClasses(handle: DatabaseHandle): Promise<IndexOperatorClasses> {
  const rows = await withSession(handle, (session) =>
    session.query<{ index: string; classes: (string | null)[] }>(OPERATOR_CLASSES),
  );
  return new Map(rows.map((row) => [row.index, row.classes.map((name) => name ?? undefined)]));
}

const OPERATOR_CLASSES = `
select i.relname as index,
       json_agg(case when oc.opcdefault then null else oc.opcname::text end order by k.ord) as classes
  from pg_index x join pg_class i on i.oid = x.indexrelid
  join pg_namespace n on n.oid = i.relnamespace
  cross join lateral unnest(x.indclass::oid[], x.indkey::int2[]) with ordinality as k(opclass, attnum, ord)
  join pg_opclass oc on oc.oid = k.opclass
 where k.attnum <> 0 and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
 group by i.relname`;

/** The exports of a schema.ts, loaded fresh (a second pull in one process must not see the first). */
export async function loadSchemaModule(file: string): Promise<Record<string, unknown>> {
  return (await import(`${pathToFileURL(file).href}?pulled=${Date.now()}`)) as Record<string, unknown>;
}

/**
 * The pulled schema.ts, loaded; when the app already has migrations, first put in their last snapshot's
 * words wherever PostgreSQL makes the same of both (see withSnapshotSpelling), so autogenerate sees no change.
 */
export async function loadPulledSchema(
  file: string,
  live: DatabaseHandle,
  shadow: ShadowSource,
  migrationsDir: string,
): Promise<Record<string, unknown>> {
  const schema = await loadSchemaModule(file);
  const migrations = readMigrations(migrationsDir, { mayBeMissing: true });
  if (migrations.length === 0) return schema;
  const text = readFileSync(file, 'utf8');
  const previous = latestSnapshot(migrations);
  const respelled = await withSnapshotSpelling(text, snapshotFromSchema(schema), previous, live, shadow);
  if (respelled === text) return schema;
  writeFileSync(file, respelled);
  return loadSchemaModule(file);
}

/** schema.ts's own SQL, from an empty database: what a fresh database built from it gets. */
export async function schemaStatements(schema: Record<string, unknown>): Promise<string[]> {
  return (await diffSnapshots(emptySnapshot(), snapshotFromSchema(schema))).statements;
}

/** What the pulled schema.ts leaves out of the live database (see `unexpressedObjects`). */
export async function unexpressedBy(
  live: DatabaseHandle,
  shadow: ShadowSource,
  schema: Record<string, unknown>,
): Promise<Unexpressed> {
  return unexpressedObjects(live, shadow, await schemaStatements(schema));
}
