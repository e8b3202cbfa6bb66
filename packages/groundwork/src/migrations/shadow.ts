import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import type { Settings } from '../config.ts';
import { withAdminConnection } from '../database/admin.ts';
import { type DatabaseHandle, type ExtensionName, openDatabase } from '../database/open.ts';
import { databaseNameOf, withDatabase } from '../database/urls.ts';
import { MigrationError } from './errors.ts';

/** Where a shadow database can be made: the app's own database settings and extensions. */
export interface ShadowSource {
  settings: Pick<Settings, 'appName' | 'databaseUrl' | 'dataDir' | 'pool' | 'logSql'> &
    Partial<Pick<Settings, 'directUrl' | 'prepare' | 'replicas'>>;
  extensions?: readonly ExtensionName[];
}

/**
 * Runs `work` on an empty scratch database of the same engine as the app's: a temporary database on the
 * same server (dropped afterwards), or a fresh in-memory PGlite with the app's extensions.
 */
export async function withShadowDatabase<T>(
  source: ShadowSource,
  work: (handle: DatabaseHandle) => Promise<T>,
): Promise<T> {
  if (!source.settings.databaseUrl) return withEmbeddedShadow(source, work);
  // Made and migrated over the direct connection when there is one: migrations need a session.
  const direct = source.settings.directUrl;
  const url = direct ?? source.settings.databaseUrl;
  const name = `gw_shadow_${randomBytes(6).toString('hex')}`;
  try {
    await withAdminConnection(url, (sql) => sql.unsafe(`create database "${name}"`));
  } catch (error) {
    throw new MigrationError(
      `check compares the live database with a temporary one built from the migrations, and could not create it ` +
        `on the server of ${databaseNameOf(url)}: ${(error as Error).message}. Grant the role CREATEDB, or run check --offline.`,
    );
  }
  try {
    const settings = {
      ...source.settings,
      databaseUrl: withDatabase(url, name),
      directUrl: undefined,
      prepare: direct ? true : source.settings.prepare,
      replicas: undefined,
      pool: { ...source.settings.pool, max: 1 },
    };
    const handle = await openDatabase(settings, { schema: {}, extensions: source.extensions });
    try {
      return await work(handle);
    } finally {
      await handle.close();
    }
  } finally {
    await withAdminConnection(url, (sql) => sql.unsafe(`drop database if exists "${name}" with (force)`));
  }
}

async function withEmbeddedShadow<T>(
  source: ShadowSource,
  work: (handle: DatabaseHandle) => Promise<T>,
): Promise<T> {
  const pglite = await emptyPglite(source.extensions ?? []);
  try {
    const handle = await openDatabase(source.settings, { schema: {}, pglite });
    return await work(handle);
  } finally {
    await pglite.close();
  }
}

/** A fresh in-memory PGlite with the app's extensions available, loaded from the kept fresh image. */
async function emptyPglite(extensionNames: readonly ExtensionName[]): Promise<PGlite> {
  const [{ pgliteExtensions }, { emptyInMemoryPglite }] = await Promise.all([
    import('../database/pglite.ts'),
    import('../database/pglite-cluster.ts'),
  ]);
  return emptyInMemoryPglite(await pgliteExtensions(extensionNames));
}
