import { downgrade, recordedEnvironment, upgrade } from '../../migrations/runner.ts';
import { resolveApp } from '../apps.ts';
import { APP_OPTION, type Command, JSON_OPTION } from '../command.ts';
import { withAppDatabase } from '../database-command.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS } from './guard.ts';
import { printRun } from './print-run.ts';

export const resetCommand: Command = {
  name: 'reset',
  summary: 'downgrade base then upgrade head (in production only with --force --confirm <database>)',
  usage: 'reset [--force --confirm <database>] [--app <name>] [--json]',
  options: { ...APP_OPTION, ...JSON_OPTION, ...DESTRUCTIVE_OPTIONS },
  async run({ values }, out) {
    const app = await resolveApp(values.app as string | undefined);
    return withAppDatabase(app, async ({ handle, settings, where }) => {
      assertDestructiveAllowed(
        'reset',
        'erases every row of',
        settings,
        await recordedEnvironment(handle),
        values,
      );
      out.line(`${app.name}: resetting ${where}`);
      const options = { log: out.line, environment: settings.nodeEnv };
      printRun(out, await downgrade(handle, app.migrationsDir, 'base', options));
      printRun(out, await upgrade(handle, app.migrationsDir, 'head', options));
      return 0;
    });
  },
};
