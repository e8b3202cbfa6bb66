import { recordedEnvironment } from '../../migrations/bookkeeping.ts';
import { downgrade, upgrade } from '../../migrations/runner.ts';
import { databaseCommand } from '../database-command.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS } from './guard.ts';
import { LOCK_OPTIONS, lockFlags } from './lock-options.ts';
import { printRun } from './print-run.ts';

export const resetCommand = databaseCommand({
  name: 'reset',
  summary: 'downgrade base then upgrade head (in production only with --force --confirm <database>)',
  usage:
    'reset [--lock-timeout <ms>] [--lock-retries <n>] [--force --confirm <database>] [--app <name>] [--json]',
  options: { ...DESTRUCTIVE_OPTIONS, ...LOCK_OPTIONS },
  examples: [
    'groundwork db reset                        # development: every migration down, then up again',
    'groundwork db reset --force --confirm learnr  # production: only with the database name typed out',
  ],
  parse: ({ values }) => lockFlags(values),
  async run({ app, handle, settings, where, values, input: locks }, out) {
    assertDestructiveAllowed(
      'reset',
      'erases every row of',
      settings,
      await recordedEnvironment(handle),
      values,
    );
    out.line(`${app.name}: resetting ${where}`);
    const options = { ...settings.migrations, ...locks, log: out.line, environment: settings.nodeEnv };
    printRun(out, await downgrade(handle, app.migrationsDir, 'base', options));
    printRun(out, await upgrade(handle, app.migrationsDir, 'head', options));
    return 0;
  },
});
