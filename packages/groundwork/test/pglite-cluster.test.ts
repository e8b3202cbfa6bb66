import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openCluster } from '../src/database/pglite-cluster.ts';

const work = mkdtempSync(join(tmpdir(), 'gw-clusters-'));
// os.tmpdir() reads TMPDIR on each call: the fresh cluster's template lands where this file can watch it.
const templates = join(work, 'tmp');
mkdirSync(templates);
const previousTmpdir = process.env.TMPDIR;
process.env.TMPDIR = templates;
afterAll(() => {
  if (previousTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmpdir;
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** PGlite.create calls that made the fresh template (the only ones opening a folder under `templates`). */
function templateCreations(create: { mock: { calls: unknown[][] } }): number {
  return create.mock.calls.filter(([dir]) => typeof dir === 'string' && dir.startsWith(templates)).length;
}

// Each initdb costs seconds of CPU, many more on a loaded machine.
describe('embedded clusters', { timeout: 120_000 }, () => {
  it('creates clusters opened together from one initdb, each its own, and then removes the template', async () => {
    const create = vi.spyOn(PGlite, 'create');
    const [a, b] = await Promise.all([openCluster(join(work, 'a'), {}), openCluster(join(work, 'b'), {})]);
    try {
      expect(templateCreations(create)).toBe(1);
      expect(readdirSync(templates)).toEqual([]);
      await a.exec('create table only_in_a (id int)');
      expect((await b.query(`select to_regclass('only_in_a') as found`)).rows).toEqual([{ found: null }]);
      // The smaller buffer pool that keeps five apps' instances under the RSS target.
      expect((await a.query('show shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
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

  it('opens an existing cluster as it is, without initdb', async () => {
    const dir = join(work, 'existing');
    const first = await openCluster(dir, {});
    await first.exec('create table kept (id int); insert into kept values (7)');
    await first.close();
    const create = vi.spyOn(PGlite, 'create');
    const again = await openCluster(dir, {});
    try {
      expect(templateCreations(create)).toBe(0);
      expect((await again.query('select id from kept')).rows).toEqual([{ id: 7 }]);
    } finally {
      await again.close();
    }
  });
});
