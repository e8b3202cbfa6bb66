import { downgrade, recordedEnvironment } from '../../migrations/runner.ts';
import { resolveApp } from '../apps.ts';
import { APP_OPTION, type Command, JSON_OPTION } from '../command.ts';
import { withAppDatabase } from '../database-command.ts';
import { UsageError } from '../output.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS } from './guard.ts';
import { printRun } from './print-run.ts';

export const downgradeCommand: Command = {
  name: 'downgrade',
  summary: 'revert migrations: -1, -N, an id (kept applied), or base',
  usage: 'downgrade <-1|-N|id|base> [--sql] [--force --confirm <database>] [--app <name>] [--json]',
  options: { ...APP_OPTION, ...JSON_OPTION, ...DESTRUCTIVE_OPTIONS, sql: { type: 'boolean' } },
  async run({ values, positionals }, out) {
    const target = positionals[0];
    if (!target) throw new UsageError('downgrade needs a target: -1, -N, a migration id, or base');
    const app = await resolveApp(values.app as string | undefined);
    return withAppDatabase(app, async ({ handle, settings, where }) => {
      if (!values.sql) {
        const recorded = await recordedEnvironment(handle);
        assertDestructiveAllowed('downgrade', 'reverts migrations of', settings, recorded, values);
        out.line(`${app.name}: downgrading ${where}`);
      }
      const options = { log: out.line, sql: Boolean(values.sql), environment: settings.nodeEnv };
      printRun(out, await downgrade(handle, app.migrationsDir, target, options));
      return 0;
    });
  },
};
