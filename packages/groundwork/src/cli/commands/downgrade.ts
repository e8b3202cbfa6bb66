import { recordedEnvironment } from '../../migrations/bookkeeping.ts';
import { downgrade } from '../../migrations/runner.ts';
import { databaseCommand } from '../database-command.ts';
import { UsageError } from '../output.ts';
import { assertDestructiveAllowed, DESTRUCTIVE_OPTIONS } from './guard.ts';
import { LOCK_OPTIONS, lockFlags } from './lock-options.ts';
import { printRun } from './print-run.ts';

export const downgradeCommand = databaseCommand({
  name: 'downgrade',
  summary: 'revert migrations: -1, -N, an id (kept applied), or base',
  usage:
    'downgrade <-1|-N|id|base> [--sql] [--lock-timeout <ms>] [--lock-retries <n>] [--force --confirm <database>] [--app <name>] [--json]',
  options: {
    ...DESTRUCTIVE_OPTIONS,
    sql: {
      type: 'boolean',
      description:
        'print the psql script the downgrade would run (advisory lock, timeouts, bookkeeping included); change nothing',
    },
    ...LOCK_OPTIONS,
  },
  examples: [
    'groundwork db downgrade -1                 # revert the last migration',
    'groundwork db downgrade 20261122073000     # revert the ones after it (it stays applied)',
    'groundwork db downgrade base               # revert every migration',
    'groundwork db downgrade -2 --sql           # the script only',
  ],
  parse({ positionals: [target], values }) {
    if (!target) throw new UsageError('downgrade needs a target: -1, -N, a migration id, or base');
    return { target, locks: lockFlags(values) };
  },
  async run({ app, handle, settings, where, values, input }, out) {
    if (!values.sql) {
      const recorded = await recordedEnvironment(handle);
      assertDestructiveAllowed('downgrade', 'reverts migrations of', settings, recorded, values);
      out.line(`${app.name}: downgrading ${where}`);
    }
    const options = {
      ...settings.migrations,
      ...input.locks,
      log: out.line,
      sql: Boolean(values.sql),
      environment: settings.nodeEnv,
    };
    printRun(out, await downgrade(handle, app.migrationsDir, input.target, options));
    return 0;
  },
});
