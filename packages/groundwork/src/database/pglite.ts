import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { Settings } from '../config.ts';
import {
  type Database,
  type DatabaseHandle,
  type ExtensionName,
  type OpenDatabaseOptions,
  timed,
} from './open.ts';

export async function pgliteExtensions(
  names: readonly ExtensionName[] = [],
): Promise<Record<string, Extension>> {
  const loaders: Record<ExtensionName, () => Promise<[string, Extension]>> = {
    'uuid-ossp': async () => [
      'uuid_ossp',
      (await import('@electric-sql/pglite/contrib/uuid_ossp')).uuid_ossp,
    ],
    citext: async () => ['citext', (await import('@electric-sql/pglite/contrib/citext')).citext],
    pg_trgm: async () => ['pg_trgm', (await import('@electric-sql/pglite/contrib/pg_trgm')).pg_trgm],
    vector: async () => ['vector', (await import('@electric-sql/pglite-pgvector')).vector as Extension],
  };
  return Object.fromEntries(await Promise.all(names.map((name) => loaders[name]())));
}

export class DataDirectoryError extends Error {
  readonly code = 'GW_DATA_DIRECTORY';
}

/**
 * Creates an embedded data directory (and `.data/` above it when missing) 0700, or checks an existing one:
 * like PostgreSQL with PGDATA, one that group or others can reach is refused rather than silently fixed.
 */
export function createPrivateDirectory(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if (mode & 0o077) {
    throw new DataDirectoryError(
      `The embedded data directory ${dataDir} is accessible to group or others (mode ${mode.toString(8)}); ` +
        `it holds password hashes and secrets. Fix it with: chmod -R go-rwx '${dataDir}'`,
    );
  }
}

/** PGlite creates its files 0666 whatever the umask (measured), so they are made the owner's after it writes. */
export function restrictToOwner(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    chmodSync(path, statSync(path).mode & 0o700);
  }
  chmodSync(dir, 0o700);
}

export async function openEmbedded<TSchema extends Record<string, unknown>>(
  settings: Pick<Settings, 'dataDir'>,
  options: OpenDatabaseOptions<TSchema>,
  logger: DrizzleLogger | undefined,
): Promise<DatabaseHandle<TSchema>> {
  let client = options.pglite;
  if (!client) {
    createPrivateDirectory(settings.dataDir);
    client = await PGlite.create(settings.dataDir, {
      extensions: await pgliteExtensions(options.extensions),
    });
    restrictToOwner(settings.dataDir);
  }
  const pglite = client;
  const db = drizzlePglite(pglite, { schema: options.schema, logger }) as unknown as Database<TSchema>;
  return {
    db,
    engine: 'pglite',
    ping: (timeoutMs = 1000) => timed(() => pglite.query('select 1'), timeoutMs),
    async session() {
      return {
        query: async <T>(text: string, params?: unknown[]) =>
          params?.length ? (await pglite.query<T>(text, params)).rows : lastRows<T>(await pglite.exec(text)),
        release: async () => {},
      };
    },
    stats: () => ({ engine: 'pglite', max: 1, active: 0, waiting: 0 }),
    // A caller-supplied instance belongs to the caller.
    close: async () => {
      if (options.pglite || pglite.closed) return;
      await pglite.close();
      restrictToOwner(settings.dataDir);
    },
  };
}

function lastRows<T>(results: { rows: unknown[] }[]): T[] {
  return (results.at(-1)?.rows ?? []) as T[];
}
