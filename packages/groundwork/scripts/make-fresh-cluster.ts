/**
 * Runs PGlite's initdb once for this user (`npm install` calls it), so the first `npm start` copies a fresh
 * cluster for each app instead of waiting for one. Does nothing when it exists.
 */
import { freshCluster } from '../src/database/pglite-cluster.ts';

console.log(`embedded PostgreSQL: fresh cluster at ${await freshCluster()}`);
