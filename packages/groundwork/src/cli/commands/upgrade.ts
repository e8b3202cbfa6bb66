import { upgrade } from '../../migrations/runner.ts';
import { resolveApp } from '../apps.ts';
import { APP_OPTION, type Command, JSON_OPTION } from '../command.ts';
import { withAppDatabase } from '../database-command.ts';
import { printRun } from './print-run.ts';

export const upgradeCommand: Command = {
  name: 'upgrade',
  summary: 'apply pending migrations up to head or a target id',
  usage: 'upgrade [head|<id>] [--sql] [--allow-out-of-order] [--app <name>] [--json]',
  options: {
    ...APP_OPTION,
    ...JSON_OPTION,
    sql: { type: 'boolean' },
    'allow-out-of-order': { type: 'boolean' },
  },
  async run({ values, positionals }, out) {
    const app = await resolveApp(values.app as string | undefined);
    return withAppDatabase(app, async ({ handle, settings, where }) => {
      if (!values.sql) out.line(`${app.name}: upgrading ${where}`);
      const result = await upgrade(handle, app.migrationsDir, positionals[0] ?? 'head', {
        log: out.line,
        sql: Boolean(values.sql),
        allowOutOfOrder: Boolean(values['allow-out-of-order']),
        environment: settings.nodeEnv,
      });
      printRun(out, result);
      return 0;
    });
  },
};
