import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { registerFastResolve } from '../adapters/node-resolve.ts';
import { registerPostgresQueue } from '../adapters/postgres-queue.ts';
import { cacheFolder } from '../cache-folder.ts';

// All before anything else loads: compiled code is cached between runs (Node >= 22.1), installed ESM
// packages resolve without Node 22/24's per-module package.json cost, and postgres.js's pools get a queue
// that stays bounded under load (adapters/postgres-queue.ts). The cache lives in the user's own
// folder (0700): Node's default is one folder in the shared temporary directory, where whoever makes it first
// decides what every other user's processes load. Without that folder the CLI only starts slower.
try {
  enableCompileCache(join(cacheFolder(), 'node-compile-cache'));
} catch {}
registerFastResolve();
registerPostgresQueue();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
