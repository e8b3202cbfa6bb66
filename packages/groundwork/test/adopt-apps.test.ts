/**
 * `db pull` on each of the five apps' migrated databases (issue 31): the schema it writes autogenerates
 * nothing against the app's own migrations, and what Drizzle cannot express is only what the apps wrote by
 * hand (extensions, functions, triggers). Embedded PGlite, as `npm start` runs the apps: delight needs
 * pgvector, which PGlite ships and the test server may not. So it runs in the PGlite pass only; the server's
 * side of pull is test/adopt-alembic.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { indexOperatorClasses, loadPulledSchema, pullSchema, unexpressedBy } from '../src/adopt/pull.ts';
import type { AppDefinition } from '../src/app.ts';
import { openDatabase } from '../src/database/open.ts';
import { diffSnapshots, snapshotFromSchema } from '../src/migrations/diff.ts';
import { latestSnapshot, readMigrations } from '../src/migrations/folder.ts';
import { upgrade } from '../src/migrations/runner.ts';
import { testSettings } from '../src/testing/index.ts';
import { dataDir, removeTempFolders, serverUrl } from './support/harness.ts';

vi.setConfig({ testTimeout: 180_000 });

const APPS = resolve(import.meta.dirname, '..', '..', '..', 'apps');
const pulledDir = join(import.meta.dirname, 'support', `.tmp-pulled-${randomBytes(4).toString('hex')}`);

afterAll(() => {
  rmSync(pulledDir, { recursive: true, force: true });
  removeTempFolders();
});

describe.skipIf(serverUrl)('db pull on the five apps', () => {
  it.each(readdirSync(APPS).sort())('%s: the pulled schema.ts autogenerates nothing', async (name) => {
    const app = (await import(join(APPS, name, 'src', 'app.ts'))).default as AppDefinition;
    const settings = testSettings(app, { DATA_DIR: await dataDir() });
    const shadow = { settings, extensions: app.extensions };
    const open = () => openDatabase(settings, { schema: {}, extensions: app.extensions });
    let handle = await open();
    await upgrade(handle, app.migrationsDir);
    const operatorClasses = await indexOperatorClasses(handle);
    await handle.close();

    const outFile = join(pulledDir, `${name}.ts`);
    await pullSchema({ settings, schemas: ['public'], outFile, operatorClasses });
    handle = await open();
    try {
      const schema = await loadPulledSchema(outFile, handle, shadow, app.migrationsDir);
      const previous = latestSnapshot(readMigrations(app.migrationsDir));
      expect((await diffSnapshots(previous, snapshotFromSchema(schema))).statements).toEqual([]);
      const extra = await unexpressedBy(handle, shadow, schema);
      expect(extra.unresolved).toEqual([]);
      expect(extra.objects.filter((object) => !/^(function|trigger) /.test(object))).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});
