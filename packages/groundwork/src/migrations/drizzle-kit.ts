import { createRequire } from 'node:module';
import type * as DrizzleKit from 'drizzle-kit/api';

const require = createRequire(import.meta.url);
let loaded: typeof DrizzleKit | undefined;

/**
 * drizzle-kit/api, loaded on first use: importing it takes seconds, and only the commands that diff
 * (`revision --autogenerate`, `check`) need it. `require` keeps the callers synchronous.
 */
export function drizzleKit(): typeof DrizzleKit {
  loaded ??= require('drizzle-kit/api') as typeof DrizzleKit;
  return loaded;
}
