/**
 * `npm run fuzz`: FUZZ_RUNS (default 10000) hostile requests spread over every app, seeded by FUZZ_SEED
 * (default fixed, printed), on PGlite or the TEST_DATABASE_URL server. Prints the counts; exits 1 on the
 * first violation, naming the seed and the request.
 */
import { resolveAllApps } from '../../cli/apps.ts';
import { startApp } from '../../runtime.ts';
import { generateKey } from '../../security/secrets.ts';
import { buildServer } from '../../server.ts';
import { createTestDatabase } from '../index.ts';
import { fuzzSeed } from './index.ts';
import { emptyCounts, type FuzzCounts, FuzzFailure, fuzzServer } from './run.ts';

const line = (text: string) => process.stdout.write(`${text}\n`);

function describeCounts(counts: FuzzCounts): string {
  const statuses = Object.entries(counts.byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, n]) => `${status}:${n}`)
    .join(' ');
  return (
    `requests=${counts.requests} (${counts.validByDocument} valid by the document)  by status ${statuses}  ` +
    `5xx=${counts.serverErrors}  rows changed by refused requests=${counts.refusedChangedRows}  ` +
    `undocumented statuses=${counts.undocumentedStatuses}  schema mismatches=${counts.schemaMismatches}  ` +
    `valid requests refused=${counts.validRefused}`
  );
}

async function main(): Promise<number> {
  const seed = fuzzSeed();
  const total = Number(process.env.FUZZ_RUNS ?? 10_000);
  const apps = await resolveAllApps();
  const runs = Math.ceil(total / apps.length);
  line(
    `fuzz: seed ${seed}, ${runs} requests per app, ${apps.length} apps, ${process.env.TEST_DATABASE_URL ? 'server' : 'PGlite'}`,
  );
  const all = emptyCounts();
  const add = (counts: FuzzCounts) => {
    for (const key of Object.keys(all) as (keyof FuzzCounts)[])
      if (key !== 'byStatus') all[key] += counts[key];
    for (const [status, n] of Object.entries(counts.byStatus))
      all.byStatus[status] = (all.byStatus[status] ?? 0) + n;
  };
  let failed = false;
  const skipped: string[] = [];
  for (const app of apps) {
    const key = generateKey('fuzz');
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    try {
      database = await createTestDatabase(app, { env: { SECRET_KEYS: key } });
    } catch (error) {
      // A server without an extension the app needs (pgvector): say so, and fuzz the others.
      const reason = String((error as Error).message).split('\n')[0];
      line(`${app.name.padEnd(12)} SKIPPED: cannot create its database here: ${reason}`);
      skipped.push(app.name);
      continue;
    }
    const running = await startApp(app, {
      settings: database.settings,
      handle: database.handle,
      migrate: false,
    });
    const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
    const started = Date.now();
    try {
      const counts = await fuzzServer(server, database.handle, {
        seed,
        runs,
        secrets: [key.slice(key.indexOf(':') + 1)],
      });
      add(counts);
      line(
        `${app.name.padEnd(12)} ${describeCounts(counts)}  (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    } catch (error) {
      if (!(error instanceof FuzzFailure)) throw error;
      add(error.counts);
      line(`${app.name.padEnd(12)} ${describeCounts(error.counts)}`);
      line(`  FAILED: ${error.message}`);
      failed = true;
    } finally {
      await server.close();
      await database.dispose();
    }
  }
  const skips = skipped.length ? `  (skipped: ${skipped.join(', ')})` : '';
  line(`${'total'.padEnd(12)} ${describeCounts(all)}${skips}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fuzz: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
