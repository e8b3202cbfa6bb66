import { readState } from '../../migrations/runner.ts';
import { resolveApp } from '../apps.ts';
import { APP_OPTION, type Command, JSON_OPTION } from '../command.ts';
import { withAppDatabase } from '../database-command.ts';

export const currentCommand: Command = {
  name: 'current',
  summary: 'the applied revision, marked (head) when nothing is pending',
  usage: 'current [--app <name>] [--json]',
  options: { ...APP_OPTION, ...JSON_OPTION },
  async run({ values }, out) {
    const app = await resolveApp(values.app as string | undefined);
    return withAppDatabase(app, async ({ handle }) => {
      const state = await readState(handle, app.migrationsDir);
      const atHead = state.pending.length === 0;
      const current = state.migrations.find((m) => m.id === state.current);
      out.result(
        { current: state.current, head: state.head, atHead, pending: state.pending.length },
        `${current?.name ?? state.current ?? 'base'}${atHead ? ' (head)' : ` (${state.pending.length} pending)`}`,
      );
      return 0;
    });
  },
};
