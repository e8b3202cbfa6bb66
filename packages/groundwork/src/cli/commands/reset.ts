import { databaseNameOf } from '../../database/admin.ts';
import { downgrade, upgrade } from '../../migrations/runner.ts';
import { resolveApp } from '../apps.ts';
import { APP_OPTION, type Command, JSON_OPTION } from '../command.ts';
import { withAppDatabase } from '../database-command.ts';
import { UsageError } from '../output.ts';
import { printRun } from './print-run.ts';

export const resetCommand: Command = {
  name: 'reset',
  summary: 'downgrade base then upgrade head (embedded or *test* databases, or --force)',
  usage: 'reset [--force] [--app <name>] [--json]',
  options: { ...APP_OPTION, ...JSON_OPTION, force: { type: 'boolean' } },
  async run({ values }, out) {
    const app = await resolveApp(values.app as string | undefined);
    return withAppDatabase(app, async ({ handle, settings, where }) => {
      const database = settings.databaseUrl ? databaseNameOf(settings.databaseUrl) : undefined;
      const disposable = database === undefined || /test/i.test(database);
      if (!disposable && !values.force) {
        throw new UsageError(
          `reset erases every row in ${where}. It runs without --force only on embedded databases or ones ` +
            'whose name contains "test". Pass --force if you mean it.',
        );
      }
      out.line(`${app.name}: resetting ${where}`);
      printRun(out, await downgrade(handle, app.migrationsDir, 'base', { log: out.line }));
      printRun(out, await upgrade(handle, app.migrationsDir, 'head', { log: out.line }));
      return 0;
    });
  },
};
