/**
 * npm run secrets:reseal -w apps/mail-agent [-- --batch-size 500]
 *
 * Re-seals every stored Gmail token under the first key of SECRET_KEYS. Settings come from the environment
 * and .env exactly as the app reads them. Interrupting it is safe: rerun it and it continues.
 */
import { parseArgs } from 'node:util';
import { appSettings, databaseErrorOf, describeDatabase, openDatabase, redactSecrets } from 'groundwork-pg';
import app from '../src/app.ts';
import { loadKeys } from '../src/secrets.ts';
import { resealGmailTokens } from '../src/users/reseal.ts';

const log = (line: string) => process.stdout.write(`${redactSecrets(line)}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'batch-size': { type: 'string', default: '500' } } });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    process.stderr.write('--batch-size must be an integer from 1 to 10000\n');
    return 2;
  }
  // As the app loads them, so an embedded database and a development key are found where it keeps them.
  const { settings } = appSettings(app);
  const { ring } = loadKeys(settings);
  if (ring === undefined) {
    process.stderr.write('SECRET_KEYS is not set: put the new key first and the old ones after it\n');
    return 1;
  }
  // One connection is all a sequential batch loop uses.
  const handle = await openDatabase(
    { ...settings, pool: { ...settings.pool, max: 1 } },
    { schema: app.schema, extensions: app.extensions, applicationName: 'mail-agent:reseal' },
  );
  try {
    log(`database: ${describeDatabase(settings)}`);
    const report = await resealGmailTokens({ db: handle.db, ring, batchSize, log });
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await handle.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = databaseErrorOf(error)?.code;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `re-seal failed: ${redactSecrets(message)}${code === '42P01' ? ' (run `npm run db -- upgrade` first)' : ''}\n`,
    );
    process.exitCode = 1;
  },
);
