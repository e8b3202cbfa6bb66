import { upgrade } from '../../migrations/runner.ts';
import { databaseCommand } from '../database-command.ts';
import { printRun } from './print-run.ts';

export const upgradeCommand = databaseCommand({
  name: 'upgrade',
  summary: 'apply pending migrations up to head or a target id',
  usage: 'upgrade [head|<id>] [--sql] [--allow-out-of-order] [--app <name>] [--json]',
  options: {
    sql: {
      type: 'boolean',
      description: 'print the SQL the upgrade would run, bookkeeping included; change nothing',
    },
    'allow-out-of-order': {
      type: 'boolean',
      description: 'also apply pending migrations older than the applied head (refused otherwise)',
    },
  },
  examples: [
    'groundwork db upgrade                      # every pending migration, up to head',
    'groundwork db upgrade 20261122101500       # up to that migration, included',
    'groundwork db upgrade --sql > upgrade.sql  # the SQL, for whoever runs it by hand',
    'groundwork db upgrade --app learnr         # from the repository root',
  ],
  parse: ({ positionals: [target = 'head'] }) => target,
  async run({ app, handle, settings, where, values, input: target }, out) {
    if (!values.sql) out.line(`${app.name}: upgrading ${where}`);
    const result = await upgrade(handle, app.migrationsDir, target, {
      log: out.line,
      sql: Boolean(values.sql),
      allowOutOfOrder: Boolean(values['allow-out-of-order']),
      environment: settings.nodeEnv,
    });
    printRun(out, result);
    return 0;
  },
});
