import { readState } from '../../migrations/runner.ts';
import { databaseCommand } from '../database-command.ts';

export const currentCommand = databaseCommand({
  name: 'current',
  summary: 'the applied revision, marked (head) when nothing is pending',
  usage: 'current [--app <name>] [--json]',
  options: {},
  examples: [
    'groundwork db current                      # 20261122101500_add_phone_to_users (head)',
    'groundwork db current --app learnr --json',
  ],
  async run({ app, handle }, out) {
    const state = await readState(handle, app.migrationsDir);
    const atHead = state.pending.length === 0;
    const current = state.migrations.find((m) => m.id === state.current);
    out.result(
      { current: state.current, head: state.head, atHead, pending: state.pending.length },
      `${current?.name ?? state.current ?? 'base'}${atHead ? ' (head)' : ` (${state.pending.length} pending)`}`,
    );
    return 0;
  },
});
