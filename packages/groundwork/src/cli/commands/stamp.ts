import { recordedEnvironment, stamp } from '../../migrations/runner.ts';
import { resolveApp } from '../apps.ts';
import { APP_OPTION, type Command, JSON_OPTION } from '../command.ts';
import { withAppDatabase } from '../database-command.ts';
import { UsageError } from '../output.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS } from './guard.ts';

export const stampCommand: Command = {
  name: 'stamp',
  summary: 'record the database as being at a revision without running SQL',
  usage: 'stamp <head|base|id> [--force --confirm <database>] [--app <name>] [--json]',
  options: { ...APP_OPTION, ...JSON_OPTION, ...DESTRUCTIVE_OPTIONS },
  async run({ values, positionals }, out) {
    const target = positionals[0];
    if (!target) throw new UsageError('stamp needs a target: head, base or a migration id');
    const app = await resolveApp(values.app as string | undefined);
    return withAppDatabase(app, async ({ handle, settings }) => {
      const recorded = await recordedEnvironment(handle);
      assertDestructiveAllowed('stamp', 'rewrites the migration record of', settings, recorded, values);
      const result = await stamp(handle, app.migrationsDir, target, {
        log: out.line,
        environment: settings.nodeEnv,
      });
      out.result(result);
      return 0;
    });
  },
};
