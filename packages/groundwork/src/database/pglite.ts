import type { Extension } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { Settings } from '../config.ts';
import { createPrivateDirectory, restrictToOwner } from '../private-directory.ts';
import {
  type Database,
  type DatabaseHandle,
  type ExtensionName,
  type OpenDatabaseOptions,
  timed,
} from './open.ts';
import { openCluster } from './pglite-cluster.ts';

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

export async function openEmbedded<TSchema extends Record<string, unknown>>(
  settings: Pick<Settings, 'dataDir'>,
  options: OpenDatabaseOptions<TSchema>,
  logger: DrizzleLogger | undefined,
): Promise<DatabaseHandle<TSchema>> {
  let client = options.pglite;
  if (!client) {
    createPrivateDirectory(settings.dataDir);
    // What PGlite writes as it opens; the rest was made private when the data directory was last closed.
    // A second of slack: the file system stamps times from a coarser clock than Date.now().
    const opening = Date.now() - 1000;
    client = await openCluster(settings.dataDir, await pgliteExtensions(options.extensions));
    restrictToOwner(settings.dataDir, { changedSince: opening });
  }
  const pglite = client;
  const db = drizzlePglite(pglite, { schema: options.schema, logger }) as unknown as Database<TSchema>;
  return {
    db,
    primary: db,
    engine: 'pglite',
    pooledSessions: false,
    replicas: async () => [],
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
