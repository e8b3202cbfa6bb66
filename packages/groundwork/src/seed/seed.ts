import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Database, DatabaseHandle } from '../database/open.ts';

/** The transaction `db.transaction(...)` hands its callback, relational queries (`db.query.users`) included. */
export type SeedTransaction<TSchema extends Record<string, unknown>> = Parameters<
  Parameters<Database<TSchema>['transaction']>[0]
>[0];

/** What an app's seed gets: a transaction typed by the app's schema, and a line printer. */
export interface SeedContext<TSchema extends Record<string, unknown>> {
  db: SeedTransaction<TSchema>;
  log(line: string): void;
}

/**
 * An app's seed data (`src/seed.ts`, default export): rows a newcomer sees on a fresh database. It must be
 * idempotent (insert with ON CONFLICT DO NOTHING on a natural key, or fixed ids): `db seed` may run twice.
 */
export type Seed<TSchema extends Record<string, unknown>> = (context: SeedContext<TSchema>) => Promise<void>;

/** Types a seed by the app's schema: `export default defineSeed<typeof schema>(async ({ db }) => ...)`. */
export const defineSeed = <TSchema extends Record<string, unknown>>(seed: Seed<TSchema>): Seed<TSchema> =>
  seed;

/** The seed module's place in an app: `src/seed.ts`. */
export const seedFile = (appDir: string) => join(appDir, 'src', 'seed.ts');

export class SeedError extends Error {
  override name = 'SeedError';
}

export interface RunSeedOptions {
  environment: string;
  /** Seed a production database anyway. */
  force?: boolean;
  log?: (line: string) => void;
}

/**
 * Runs the app's seed in one transaction: all its rows or none. Refused in production without `force`, and
 * a missing or malformed module is an error naming the file, before anything is written.
 */
export async function runSeed(
  handle: DatabaseHandle<any>,
  appDir: string,
  options: RunSeedOptions,
): Promise<{ file: string }> {
  const file = seedFile(appDir);
  if (options.environment === 'production' && !options.force) {
    throw new SeedError(
      'refusing to seed a production database (NODE_ENV=production): seed rows are sample data. ' +
        'Pass --force if this database should get them.',
    );
  }
  if (!existsSync(file)) {
    throw new SeedError(
      `${file} does not exist: write one exporting default defineSeed<typeof schema>(async ({ db }) => { ... })`,
    );
  }
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (typeof module.default !== 'function') {
    throw new SeedError(
      `${file} must export default defineSeed<typeof schema>(async ({ db }) => { ... }) (its default export is not a function)`,
    );
  }
  const seed = module.default as Seed<any>;
  const log = options.log ?? (() => {});
  await handle.db.transaction((db) => seed({ db, log }));
  return { file };
}
