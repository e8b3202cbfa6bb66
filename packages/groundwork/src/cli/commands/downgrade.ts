import { downgrade, recordedEnvironment } from '../../migrations/runner.ts';
import { databaseCommand } from '../database-command.ts';
import { UsageError } from '../output.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS } from './guard.ts';
import { printRun } from './print-run.ts';

export const downgradeCommand = databaseCommand({
  name: 'downgrade',
  summary: 'revert migrations: -1, -N, an id (kept applied), or base',
  usage: 'downgrade <-1|-N|id|base> [--sql] [--force --confirm <database>] [--app <name>] [--json]',
  options: {
    ...DESTRUCTIVE_OPTIONS,
    sql: {
      type: 'boolean',
      description: 'print the SQL the downgrade would run, bookkeeping included; change nothing',
    },
  },
  examples: [
    'groundwork db downgrade -1                 # revert the last migration',
    'groundwork db downgrade 20261122073000     # revert the ones after it (it stays applied)',
    'groundwork db downgrade base               # revert every migration',
    'groundwork db downgrade -2 --sql           # the SQL only',
  ],
  parse({ positionals: [target] }) {
    if (!target) throw new UsageError('downgrade needs a target: -1, -N, a migration id, or base');
    return target;
  },
  async run({ app, handle, settings, where, values, input: target }, out) {
    if (!values.sql) {
      const recorded = await recordedEnvironment(handle);
      assertDestructiveAllowed('downgrade', 'reverts migrations of', settings, recorded, values);
      out.line(`${app.name}: downgrading ${where}`);
    }
    const options = { log: out.line, sql: Boolean(values.sql), environment: settings.nodeEnv };
    printRun(out, await downgrade(handle, app.migrationsDir, target, options));
    return 0;
  },
});
