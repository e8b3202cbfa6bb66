import { recordedEnvironment } from '../../migrations/bookkeeping.ts';
import { stamp } from '../../migrations/runner.ts';
import { databaseCommand } from '../database-command.ts';
import { UsageError } from '../output.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS } from './guard.ts';

export const stampCommand = databaseCommand({
  name: 'stamp',
  summary: 'record the database as being at a revision without running SQL',
  usage: 'stamp <head|base|id> [--force --confirm <database>] [--app <name>] [--json]',
  options: DESTRUCTIVE_OPTIONS,
  examples: [
    'groundwork db stamp head                   # a database built by other means already matches head',
    'groundwork db stamp 20261122073000         # record that revision as the applied one',
  ],
  parse({ positionals: [target] }) {
    if (!target) throw new UsageError('stamp needs a target: head, base or a migration id');
    return target;
  },
  async run({ app, handle, settings, values, input: target }, out) {
    const recorded = await recordedEnvironment(handle);
    assertDestructiveAllowed('stamp', 'rewrites the migration record of', settings, recorded, values);
    const result = await stamp(handle, app.migrationsDir, target, {
      log: out.line,
      environment: settings.nodeEnv,
    });
    out.result(result);
    return 0;
  },
});
