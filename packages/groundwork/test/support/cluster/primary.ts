import cluster from 'node:cluster';
import { join } from 'node:path';
import { runPrimary } from '../../../src/cluster.ts';

// runPrimary over a worker that crashes (crashing-worker.ts), with a short backoff so a test sees several rounds.
cluster.setupPrimary({ exec: join(import.meta.dirname, 'crashing-worker.ts') });
process.exitCode = await runPrimary({ workers: 1, log: (line) => console.log(line), backoffMs: 100 });
