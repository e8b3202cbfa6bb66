/**
 * Time to `upgrade head` and `downgrade base` for an app's migrations, on PGlite and (with TEST_DATABASE_URL)
 * on the server, in a scratch database dropped afterwards.
 *
 *   node packages/groundwork/bench/migrations.ts [migrations-dir] [app.ts | schema.ts]
 *
 * Defaults to the largest app, apps/rnd-cards (its src/app.ts default export gives the migrations folder,
 * schema and PGlite extensions). A schema module instead of an app takes its exports as the schema and loads
 * no extension. ROUNDS (default 3) repeats each measurement; the median is printed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { AppDefinition } from '../src/app.ts';
import { loadSettings } from '../src/config.ts';
import { withAdminConnection, withDatabase } from '../src/database/admin.ts';
import { type DatabaseHandle, type ExtensionName, openDatabase } from '../src/database/open.ts';
import { pgliteExtensions } from '../src/database/pglite.ts';
import { readMigrations } from '../src/migrations/folder.ts';
import { downgrade, upgrade } from '../src/migrations/runner.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const DEFAULT_APP = join(ROOT, 'apps', 'rnd-cards', 'src', 'app.ts');
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 3));

interface Target {
  label: string;
  migrationsDir: string;
  schema: Record<string, unknown>;
  extensions: readonly ExtensionName[];
}

async function target(): Promise<Target> {
  const [dirArg, moduleArg] = process.argv.slice(2);
  const modulePath = resolve(moduleArg ?? DEFAULT_APP);
  if (!existsSync(modulePath)) {
    console.error(
      moduleArg
        ? `No such module: ${modulePath}`
        : `The default app is not there yet (${modulePath}). Pass a migrations folder and an app.ts or ` +
            'schema.ts: node packages/groundwork/bench/migrations.ts <migrations-dir> <app.ts|schema.ts>',
    );
    process.exit(2);
  }
  const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown> & {
    default?: AppDefinition<any>;
  };
  const app = module.default?.migrationsDir ? module.default : undefined;
  const migrationsDir = resolve(dirArg ?? app?.migrationsDir ?? join(modulePath, '..', '..', 'migrations'));
  const schema =
    app?.schema ?? Object.fromEntries(Object.entries(module).filter(([key]) => key !== 'default'));
  if (readMigrations(migrationsDir).length === 0) {
    console.error(`No migrations in ${migrationsDir}: nothing to measure.`);
    process.exit(2);
  }
  return { label: app?.name ?? modulePath, migrationsDir, schema, extensions: app?.extensions ?? [] };
}

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

async function measure(
  backend: string,
  t: Target,
  open: () => Promise<{ handle: DatabaseHandle<any>; close: () => Promise<void> }>,
) {
  const up: number[] = [];
  const down: number[] = [];
  const { handle, close } = await open();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let started = performance.now();
      const applied = await upgrade(handle, t.migrationsDir);
      up.push(performance.now() - started);
      started = performance.now();
      const reverted = await downgrade(handle, t.migrationsDir, 'base');
      down.push(performance.now() - started);
      if (applied.steps.length !== reverted.steps.length) {
        throw new Error(`applied ${applied.steps.length} but reverted ${reverted.steps.length} migrations`);
      }
    }
  } finally {
    await close();
  }
  const ms = (samples: number[]) =>
    `${median(samples).toFixed(0).padStart(5)} ms (first ${samples[0]!.toFixed(0)} ms)`;
  console.log(
    `${backend.padEnd(8)}  upgrade head ${ms(up)}   downgrade base ${ms(down)}   median of ${ROUNDS}`,
  );
}

const t = await target();
const count = readMigrations(t.migrationsDir).length;
console.log(`${t.label}: ${count} migrations in ${t.migrationsDir}`);
const settings = (databaseUrl?: string) =>
  loadSettings({
    appName: 'bench',
    readDotenv: false,
    env: { NODE_ENV: 'test', DATABASE_URL: databaseUrl ?? '', DB_STATEMENT_TIMEOUT_MS: '0' },
  });

await measure('pglite', t, async () => {
  const pglite = await PGlite.create({ extensions: await pgliteExtensions(t.extensions) });
  const handle = await openDatabase(settings(), { schema: t.schema, pglite });
  return { handle, close: () => pglite.close() };
});

const serverUrl = process.env.TEST_DATABASE_URL;
if (serverUrl) {
  const name = `gwt_bench_${randomBytes(6).toString('hex')}`;
  await withAdminConnection(serverUrl, (sql) => sql.unsafe(`create database "${name}"`));
  try {
    await measure('postgres', t, async () => {
      const handle = await openDatabase(settings(withDatabase(serverUrl, name)), { schema: t.schema });
      return { handle, close: () => handle.close() };
    });
  } finally {
    await withAdminConnection(serverUrl, (sql) =>
      sql.unsafe(`drop database if exists "${name}" with (force)`),
    );
  }
} else {
  console.log('postgres  skipped: set TEST_DATABASE_URL=postgres://... to measure the server too');
}
