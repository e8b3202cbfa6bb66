import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';
import { cacheFolder } from '../cache-folder.ts';
import { restrictToOwner, writePrivateFile } from '../private-directory.ts';
import { PGLITE_VERSION, pgliteRuntime } from './pglite-runtime.ts';

/**
 * Where the fresh cluster every new embedded database is copied from is kept: one initdb per user and PGlite
 * version, as a PostgreSQL server package runs initdb once at install (the repository's `npm install` makes
 * it). A copy costs a fraction of an initdb (docs/performance.md, embedded start). It holds no data, only the
 * empty cluster.
 */
export function freshClusterFolder(): string {
  return join(cacheFolder(), `pglite-${PGLITE_VERSION}-fresh-cluster`);
}

/** The initdb under way in this process, which every cluster created meanwhile waits for. */
let making: Promise<string> | undefined;

/** The fresh cluster's folder, made first when it is missing. */
export function freshCluster(): Promise<string> {
  const folder = freshClusterFolder();
  if (existsSync(join(folder, 'PG_VERSION'))) return Promise.resolve(folder);
  making ??= makeFreshCluster(folder).finally(() => {
    making = undefined;
  });
  return making;
}

async function makeFreshCluster(folder: string): Promise<string> {
  // Made aside and renamed: another process sees the whole cluster or none.
  const partial = mkdtempSync(`${folder}.partial-`);
  try {
    await (await PGlite.create(partial, await pgliteRuntime())).close();
    restrictToOwner(partial);
    // A folder without PG_VERSION is a leftover (no complete cluster is ever renamed there without one).
    if (existsSync(folder) && !existsSync(join(folder, 'PG_VERSION'))) rmSync(folder, { recursive: true });
    try {
      renameSync(partial, folder);
    } catch (error) {
      // Another process renamed its own first: use that one.
      if (!existsSync(join(folder, 'PG_VERSION'))) throw error;
      rmSync(partial, { recursive: true, force: true });
    }
    return folder;
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

/**
 * `from`'s files and folders into `to` (folders 0700, files with their own mode), over whatever is there,
 * except the entries directly in `from` whose names `skip` returns true for (subfolders are copied whole).
 * Not fs.cp: its checks on every file cost several times this walk's CPU on a cluster's thousand files.
 */
async function copyTree(
  from: string,
  to: string,
  skip: (name: string) => boolean = () => false,
): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  const entries = await readdir(from, { withFileTypes: true });
  await Promise.all(
    entries
      .filter((entry) => !skip(entry.name))
      .map((entry) =>
        entry.isDirectory()
          ? copyTree(join(from, entry.name), join(to, entry.name))
          : copyFile(join(from, entry.name), join(to, entry.name)),
      ),
  );
}

/** Copies the fresh cluster into `dataDir`. */
export async function copyFreshCluster(dataDir: string): Promise<void> {
  const template = await freshCluster();
  // PG_VERSION last: it marks a cluster as there, so a copy cut short is redone at the next start.
  // Asynchronous: creating the files is kernel time, which the other apps' copies and starts overlap.
  await copyTree(template, dataDir, (name) => name === 'PG_VERSION');
  await copyFile(join(template, 'PG_VERSION'), join(dataDir, 'PG_VERSION'));
}

/** Opens the cluster in `dataDir`, first copying a fresh one there when it holds none. */
export async function openCluster(dataDir: string, extensions: Record<string, Extension>): Promise<PGlite> {
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await copyFreshCluster(dataDir);
  return PGlite.create(dataDir, { ...(await pgliteRuntime()), extensions });
}

/** Made once per process: the image read from disk, or made and written there. */
let image: Promise<Blob> | undefined;

/**
 * The fresh cluster as a PGlite image (`dumpDataDir`), kept beside the folder: an in-memory instance (a shadow
 * database, a test database's first build, `openapi`) loads it far faster than it would run its own initdb.
 */
export function freshImage(): Promise<Blob> {
  image ??= readOrMakeImage(`${freshClusterFolder()}.tar`);
  image.catch(() => {
    image = undefined;
  });
  return image;
}

async function readOrMakeImage(path: string): Promise<Blob> {
  if (existsSync(path)) return new Blob([readFileSync(path)]);
  const pglite = await PGlite.create(await pgliteRuntime());
  try {
    const made = await pglite.dumpDataDir('none');
    writePrivateFile(path, new Uint8Array(await made.arrayBuffer()));
    return made;
  } finally {
    await pglite.close();
  }
}

/** An empty in-memory PGlite with these extensions available, from the fresh image (no initdb). */
export async function emptyInMemoryPglite(extensions: Record<string, Extension> = {}): Promise<PGlite> {
  return PGlite.create({ ...(await pgliteRuntime()), extensions, loadDataDir: await freshImage() });
}
