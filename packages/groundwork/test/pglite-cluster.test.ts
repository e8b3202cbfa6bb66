import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { testBackend } from '../src/testing/index.ts';

// Test files share a worker's modules (testDefaults): a fresh copy, so no earlier file's kept image is reused.
vi.resetModules();
const { emptyInMemoryPglite, freshClusterFolder, openCluster } = await import(
  '../src/database/pglite-cluster.ts'
);

const work = mkdtempSync(join(tmpdir(), 'gw-clusters-'));
// The fresh cluster is kept under XDG_CACHE_HOME (read on each call): here, where this file can watch it.
const previousCache = process.env.XDG_CACHE_HOME;
process.env.XDG_CACHE_HOME = join(work, 'cache');
afterAll(() => {
  if (previousCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = previousCache;
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** PGlite.create calls that ran initdb (the only ones opening a folder in the cache). */
function initdbs(create: { mock: { calls: unknown[][] } }): number {
  const cache = dirname(freshClusterFolder());
  return create.mock.calls.filter(([dir]) => typeof dir === 'string' && dir.startsWith(cache)).length;
}

// Each initdb costs seconds of CPU, many more on a loaded machine. Embedded clusters are tested in the PGlite
// run; the server run (TEST_DATABASE_URL) would only repeat the same work.
describe.skipIf(testBackend !== 'pglite')('embedded clusters', { timeout: 120_000 }, () => {
  it('creates clusters opened together from one initdb, each its own, and keeps the fresh cluster private', async () => {
    const create = vi.spyOn(PGlite, 'create');
    const [a, b] = await Promise.all([openCluster(join(work, 'a'), {}), openCluster(join(work, 'b'), {})]);
    try {
      expect(initdbs(create)).toBe(1);
      await a.exec('create table only_in_a (id int)');
      expect((await b.query(`select to_regclass('only_in_a') as found`)).rows).toEqual([{ found: null }]);
      // The smaller buffer pool that keeps five apps' instances under the RSS target.
      expect((await a.query('show shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    // Only the finished cluster is left in the cache (no partial folder), readable by its owner alone.
    expect(readdirSync(dirname(freshClusterFolder()))).toEqual([freshClusterFolder().split('/').at(-1)]);
    expect(statSync(freshClusterFolder()).mode & 0o077).toBe(0);
    expect(statSync(join(freshClusterFolder(), 'PG_VERSION')).mode & 0o077).toBe(0);
  });

  it('copies a later new cluster from the kept one, without initdb', async () => {
    const create = vi.spyOn(PGlite, 'create');
    const later = await openCluster(join(work, 'later'), {});
    try {
      expect(initdbs(create)).toBe(0);
      expect((await later.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await later.close();
    }
  });

  it('copies the fresh cluster again over a copy that was cut short (no PG_VERSION yet)', async () => {
    const dir = join(work, 'interrupted');
    await (await openCluster(dir, {})).close();
    // What a killed copy leaves: part of the files, a damaged one among them, and no PG_VERSION.
    rmSync(join(dir, 'PG_VERSION'));
    writeFileSync(join(dir, 'global', 'pg_control'), '');
    const again = await openCluster(dir, {});
    try {
      expect((await again.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await again.close();
    }
  });

  it('opens empty in-memory instances from the kept image, made by one initdb and readable by its owner only', async () => {
    const create = vi.spyOn(PGlite, 'create');
    const [a, b] = await Promise.all([emptyInMemoryPglite(), emptyInMemoryPglite()]);
    try {
      // One in-memory initdb made the image (PGlite's own second create within it has noInitDb); both loaded it.
      const initdbs = create.mock.calls.filter(([options]) => {
        const { loadDataDir, noInitDb } = options as { loadDataDir?: Blob; noInitDb?: boolean };
        return !loadDataDir && !noInitDb;
      });
      expect(initdbs).toHaveLength(1);
      expect(statSync(`${freshClusterFolder()}.tar`).mode & 0o077).toBe(0);
      await a.exec('create table only_in_a (id int)');
      expect((await b.query(`select to_regclass('only_in_a') as found`)).rows).toEqual([{ found: null }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps the fresh cluster in the temporary directory when the cache folder cannot be made', () => {
    // A file where a folder should be: refused even for root, like a read-only home.
    const blocked = join(work, 'not-a-folder');
    writeFileSync(blocked, '');
    const previousTmpdir = process.env.TMPDIR;
    process.env.XDG_CACHE_HOME = join(blocked, 'cache');
    process.env.TMPDIR = join(work, 'tmp');
    try {
      expect(freshClusterFolder().startsWith(join(work, 'tmp', 'groundwork-'))).toBe(true);
      expect(statSync(dirname(freshClusterFolder())).mode & 0o077).toBe(0);
    } finally {
      process.env.XDG_CACHE_HOME = join(work, 'cache');
      if (previousTmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmpdir;
    }
  });

  it('opens an existing cluster as it is', async () => {
    const dir = join(work, 'existing');
    const first = await openCluster(dir, {});
    await first.exec('create table kept (id int); insert into kept values (7)');
    await first.close();
    const again = await openCluster(dir, {});
    try {
      expect((await again.query('select id from kept')).rows).toEqual([{ id: 7 }]);
    } finally {
      await again.close();
    }
  });
});
