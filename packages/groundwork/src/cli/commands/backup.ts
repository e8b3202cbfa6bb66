import type { AppDefinition } from '../../app.ts';
import { appCommand } from '../database-command.ts';
import { UsageError } from '../output.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS, recordedEnvironmentAt } from './guard.ts';

/** The app's settings and what backup and restore run, loaded only then: --help needs neither. */
async function prepare(app: AppDefinition) {
  const [backup, open, { appSettings }] = await Promise.all([
    import('../../database/backup.ts'),
    import('../../database/open.ts'),
    import('../../runtime.ts'),
  ]);
  return { ...backup, ...open, settings: appSettings(app).settings };
}

const size = (bytes: number) =>
  bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

function fileArgument(positionals: string[], verb: 'backup' | 'restore'): string {
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError(`usage: groundwork db ${verb} <file> [--app <name>]`);
  return file;
}

export const backupCommand = appCommand({
  name: 'backup',
  summary:
    'write a backup of the app database to <file> (pg_dump custom format, or the PGlite data directory)',
  usage: 'backup <file> [--app <name>] [--json]',
  options: {},
  examples: [
    'groundwork db backup backups/learnr-2026-11-22.dump --app learnr',
    'groundwork db backup before-upgrade.dump   # in an app folder',
  ],
  parse: ({ positionals }) => fileArgument(positionals, 'backup'),
  async run({ app, input: file }, out) {
    const { backupDatabase, describeDatabase, settings } = await prepare(app);
    out.line(`${app.name}: backing up ${describeDatabase(settings)}`);
    const result = await backupDatabase(settings, file);
    out.result(result, `wrote ${result.file} (${size(result.bytes)}, ${result.durationMs} ms)`);
    return 0;
  },
});

export const restoreCommand = appCommand({
  name: 'restore',
  summary: 'replace the app database with the backup in <file> (stop the app first)',
  usage: 'restore <file> [--force --confirm <database>] [--app <name>] [--json]',
  options: DESTRUCTIVE_OPTIONS,
  examples: [
    'groundwork db restore backups/learnr-2026-11-22.dump --app learnr   # stop the app first',
    'groundwork db upgrade --app learnr         # then bring an older backup to head',
  ],
  parse: ({ positionals }) => fileArgument(positionals, 'restore'),
  async run({ app, values, input: file }, out) {
    const { restoreDatabase, describeDatabase, openDatabase, settings } = await prepare(app);
    const recorded = await recordedEnvironmentAt(settings, () =>
      openDatabase(settings, { schema: {}, applicationName: `groundwork-cli:${app.name}` }),
    );
    assertDestructiveAllowed('restore', 'replaces every row of', settings, recorded, values);
    out.line(`${app.name}: restoring ${describeDatabase(settings)} from ${file}`);
    const result = await restoreDatabase(settings, file);
    out.result(
      result,
      `restored ${result.file} (${result.durationMs} ms); "db current" shows its migration, "db upgrade" brings an older backup to head`,
    );
    return 0;
  },
});
