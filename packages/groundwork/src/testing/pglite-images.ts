import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';
import type { AppDefinition } from '../app.ts';
import { openDatabase } from '../database/open.ts';
import { pgliteExtensions } from '../database/pglite.ts';
import { emptyInMemoryPglite } from '../database/pglite-cluster.ts';
import { PGLITE_VERSION, pgliteRuntime } from '../database/pglite-runtime.ts';
import { readMigrations } from '../migrations/folder.ts';
import { upgrade } from '../migrations/runner.ts';
import { createPrivateDirectory, writePrivateFile } from '../private-directory.ts';
import { testSettings } from './settings.ts';

/**
 * Images of an app's migrated test database: loading one costs a small part of what initdb and the
 * migrations cost per test file (docs/testing.md). Kept in the process and on disk (a private folder under the temporary
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

/**
 * A fresh in-memory PGlite holding the app's database at head, or with `migrate: false` an empty one with
 * the app's extensions available (the kept fresh image as it is).
 */
export async function pgliteFromImage(app: AppDefinition, migrate: boolean): Promise<PGlite> {
  const extensions = await pgliteExtensions(app.extensions);
  if (!migrate) return emptyInMemoryPglite(extensions);
  // One image per app: a new key (migrations changed, PGlite upgraded) replaces the old file.
  const kind = `${app.name}.head.`;
  const name = `${kind}${schemaKey(app)}.pglite-${PGLITE_VERSION}.tar`;
  let image = inProcess.get(name);
  if (!image) {
    image = readOrBuild(name, kind, () => buildImage(app, extensions));
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
    writePrivateFile(path, new Uint8Array(await image.arrayBuffer()));
    for (const stale of readdirSync(IMAGES)) {
      if (stale.startsWith(kind) && stale.endsWith('.tar') && stale !== name)
        rmSync(join(IMAGES, stale), { force: true });
    }
    return image;
  }
}

async function buildImage(app: AppDefinition, extensions: Record<string, Extension>): Promise<Blob> {
  const pglite = await emptyInMemoryPglite(extensions);
  try {
    const handle = await openDatabase(testSettings(app), { schema: app.schema, pglite });
    await upgrade(handle, app.migrationsDir);
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}
