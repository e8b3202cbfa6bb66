import { readState, unknownApplied, unknownAppliedProblem } from '../../migrations/plan.ts';
import { databaseCommand } from '../database-command.ts';

export const currentCommand = databaseCommand({
  name: 'current',
  summary:
    'the applied revision, marked (head) when nothing is pending; exit 1 when the database is ahead of the folder',
  usage: 'current [--app <name>] [--json]',
  options: {},
  examples: [
    'groundwork db current                      # 20261122101500_add_phone_to_users (head)',
    'groundwork db current --app learnr --json',
  ],
  async run({ app, handle }, out) {
    const state = await readState(handle, app.migrationsDir);
    const current = state.migrations.find((m) => m.id === state.current)?.name ?? state.current ?? 'base';
    const report = { current: state.current, head: state.head, pending: state.pending.length };
    const ahead = unknownAppliedProblem(state, app.migrationsDir);
    if (ahead) {
      const unknown = unknownApplied(state).map((row) => row.id);
      out.result(
        { ok: false, ...report, atHead: false, unknown },
        `${current} (ahead of the folder): ${ahead}`,
      );
      return 1;
    }
    const atHead = state.pending.length === 0;
    out.result(
      { ...report, atHead, unknown: [] },
      `${current}${atHead ? ' (head)' : ` (${state.pending.length} pending)`}`,
    );
    return 0;
  },
});
