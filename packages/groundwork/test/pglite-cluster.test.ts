import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCluster } from '../src/database/pglite-cluster.ts';

const work = mkdtempSync(join(tmpdir(), 'gw-clusters-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Each initdb costs seconds of CPU, many more on a loaded machine.
describe('embedded clusters', { timeout: 120_000 }, () => {
  it('start with the smaller buffer pool that keeps five apps under the RSS target', async () => {
    const pglite = await openCluster(join(work, 'a'), {});
    try {
      expect((await pglite.query('show shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
    } finally {
      await pglite.close();
    }
  });
});
