import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { drizzleKitPull, PullError } from '../adapters/drizzle-kit-pull.ts';
import type { Settings } from '../config.ts';
import type { DatabaseHandle } from '../database/open.ts';
import { METADATA_TABLE, MIGRATIONS_TABLE } from '../migrations/bookkeeping.ts';
import { ALEMBIC_TABLE } from '../migrations/catalog.ts';
import { diffSnapshots, emptySnapshot, snapshotFromSchema } from '../migrations/diff.ts';
import type { ShadowSource } from '../migrations/shadow.ts';
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
  const text = `${HEADER}${pulled}`;
  if (existsSync(outFile) && !options.force && readFileSync(outFile, 'utf8') !== text) {
    throw new PullError(
      `${outFile} exists: move it aside, or pass --force to replace it with the schema pulled from the database`,
    );
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  return { file: outFile, text };
}

/** The exports of a schema.ts, loaded fresh (a second pull in one process must not see the first). */
export async function loadSchemaModule(file: string): Promise<Record<string, unknown>> {
  return (await import(`${pathToFileURL(file).href}?pulled=${Date.now()}`)) as Record<string, unknown>;
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
