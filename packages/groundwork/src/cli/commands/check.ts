import { appCommand, withAppDatabase } from '../database-command.ts';

export const checkCommand = appCommand({
  name: 'check',
  summary:
    'exit 1 on schema.ts changes without a migration, missing, edited or irreversible-without-reason migrations, INVALID indexes, pending migrations, or live drift',
  usage: 'check [--offline] [--app <name>] [--json]',
  options: {
    offline: {
      type: 'boolean',
      description: 'schema.ts against the migrations only: no database, no pending or drift checks',
    },
  },
  examples: [
    'groundwork db check                        # in CI: exit 1, one line a problem',
    'groundwork db check --offline              # before a commit, without a database',
  ],
  async run({ app, values }, out) {
    const { checkDatabase, checkFolder } = await import('../../migrations/check.ts');
    const problems = await checkFolder(app.migrationsDir, app.schema);
    if (!values.offline) {
      problems.push(
        ...(await withAppDatabase(app, ({ handle, settings }) =>
          checkDatabase(handle, app.migrationsDir, { settings, extensions: app.extensions }),
        )),
      );
    }
    out.result(
      { ok: problems.length === 0, problems },
      problems.length === 0 ? 'OK' : problems.map((p) => `FAIL ${p.kind}: ${p.message}`).join('\n'),
    );
    return problems.length === 0 ? 0 : 1;
  },
});
