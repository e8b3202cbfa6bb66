import { upgrade } from '../../migrations/runner.ts';
import { databaseCommand } from '../database-command.ts';
import { LOCK_OPTIONS, lockFlags } from './lock-options.ts';
import { printRun } from './print-run.ts';

export const upgradeCommand = databaseCommand({
  name: 'upgrade',
  summary: 'apply pending migrations up to head or a target id',
  usage:
    'upgrade [head|<id>] [--sql] [--allow-out-of-order] [--lock-timeout <ms>] [--lock-retries <n>] [--app <name>] [--json]',
  options: {
    sql: {
      type: 'boolean',
      description:
        'print the psql script the upgrade would run (advisory lock, timeouts, bookkeeping included); change nothing',
    },
    'allow-out-of-order': {
      type: 'boolean',
      description: 'also apply pending migrations older than the applied head (refused otherwise)',
    },
    ...LOCK_OPTIONS,
  },
  examples: [
    'groundwork db upgrade                      # every pending migration, up to head',
    'groundwork db upgrade 20261122101500       # up to that migration, included',
    'groundwork db upgrade --sql > upgrade.sql  # the script, for whoever runs it: psql -X -f upgrade.sql "$URL"',
    'groundwork db upgrade --lock-timeout 200 --lock-retries 10   # a busy table: shorter waits, more tries',
    'groundwork db upgrade --app learnr         # from the repository root',
  ],
  parse: ({ positionals: [target = 'head'], values }) => ({ target, locks: lockFlags(values) }),
  async run({ app, handle, settings, where, values, input }, out) {
    if (!values.sql) out.line(`${app.name}: upgrading ${where}`);
    const result = await upgrade(handle, app.migrationsDir, input.target, {
      ...settings.migrations,
      ...input.locks,
      log: out.line,
      sql: Boolean(values.sql),
      allowOutOfOrder: Boolean(values['allow-out-of-order']),
      environment: settings.nodeEnv,
    });
    printRun(out, result);
    return 0;
  },
});
