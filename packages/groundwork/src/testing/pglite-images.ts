import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';
import type { AppDefinition } from '../app.ts';
import { openDatabase } from '../database/open.ts';
import { pgliteExtensions } from '../database/pglite.ts';
import { emptyInMemoryPglite } from '../database/pglite-cluster.ts';
import { PGLITE_VERSION, pgliteRuntime } from '../database/pglite-runtime.ts';
import { createPrivateDirectory } from '../database/private-directory.ts';
import { readMigrations } from '../migrations/folder.ts';
import { upgrade } from '../migrations/runner.ts';
import { testSettings } from './settings.ts';

/**
 * Images of an app's test database, migrated or not: initdb and the migrations cost 2-4 s of CPU per test
 * file, loading an image ~0.3 s. Kept in the process and on disk (a private folder under the temporary
 * directory), keyed by everything that shapes the database, so every test file and every later run starts
 * from the same bytes a fresh migration would have produced.
 */
const IMAGES = join(tmpdir(), `groundwork-pg-${userInfo().uid}`, 'pglite-images');
const inProcess = new Map<string, Promise<Blob>>();

/** The migrations' names and checksums and the extensions: the same database comes out of the same key. */
export function schemaKey(app: AppDefinition): string {
  const hash = createHash('sha256');
  for (const m of readMigrations(app.migrationsDir)) hash.update(`${m.name}:${m.checksum}\n`);
  hash.update(app.extensions.join(','));
  return hash.digest('hex').slice(0, 12);
}

/** A fresh in-memory PGlite holding the app's database at head (or at base with `migrate: false`). */
export async function pgliteFromImage(app: AppDefinition, migrate: boolean): Promise<PGlite> {
  const extensions = await pgliteExtensions(app.extensions);
  // One image per app and kind: a new key (migrations changed, PGlite upgraded) replaces the old file.
  const kind = `${app.name}.${migrate ? 'head' : `base-${app.extensions.join('+')}`}.`;
  const name = `${kind}${migrate ? schemaKey(app) : ''}.pglite-${PGLITE_VERSION}.tar`;
  let image = inProcess.get(name);
  if (!image) {
    image = readOrBuild(name, kind, () => buildImage(app, extensions, migrate));
    inProcess.set(name, image);
    image.catch(() => inProcess.delete(name));
  }
  return PGlite.create({ ...(await pgliteRuntime()), extensions, loadDataDir: await image });
}

async function readOrBuild(name: string, kind: string, build: () => Promise<Blob>): Promise<Blob> {
  const path = join(IMAGES, name);
  try {
    return new Blob([readFileSync(path)]);
  } catch {
    const image = await build();
    createPrivateDirectory(IMAGES);
    // Written aside and renamed: a parallel worker reads a whole image or none.
    const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
    writeFileSync(partial, new Uint8Array(await image.arrayBuffer()), { mode: 0o600 });
    renameSync(partial, path);
    for (const stale of readdirSync(IMAGES)) {
      if (stale.startsWith(kind) && stale.endsWith('.tar') && stale !== name)
        rmSync(join(IMAGES, stale), { force: true });
    }
    return image;
  }
}

async function buildImage(
  app: AppDefinition,
  extensions: Record<string, Extension>,
  migrate: boolean,
): Promise<Blob> {
  const pglite = await emptyInMemoryPglite(extensions);
  try {
    if (migrate) {
      const handle = await openDatabase(testSettings(app), { schema: app.schema, pglite });
      await upgrade(handle, app.migrationsDir);
    }
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}
