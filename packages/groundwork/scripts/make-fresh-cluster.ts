/**
 * Runs PGlite's initdb once for this user (`npm install` calls it), so the first `npm start` copies a fresh
 * cluster for each app instead of waiting for one, and a shadow database loads its image. Does nothing when
 * both exist.
 */
import { freshCluster, freshImage } from '../src/database/pglite-cluster.ts';

const folder = await freshCluster();
await freshImage();
console.log(`embedded PostgreSQL: fresh cluster at ${folder} (and its image, ${folder}.tar)`);
