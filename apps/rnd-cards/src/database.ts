import type { Database, Executor } from 'groundwork-pg';
import type * as schema from './schema.ts';

/** The app's Drizzle database (PGlite or postgres.js: the same type). */
export type Db = Database<typeof schema>;
/** What a repository method runs on: the database, or a transaction the caller opened. */
export type Tx = Executor<typeof schema>;
