import { appCommand } from '../database-command.ts';
import { UsageError } from '../output.ts';

export const squashCommand = appCommand({
  name: 'squash',
  summary: 'replace a run of migrations with one; databases that applied the originals count it as applied',
  usage: 'squash <from> <to> [--app <name>] [--json]',
  options: {},
  examples: ['groundwork db squash 20260101000000 20261122073000   # oldest first, both kept in the run'],
  parse({ positionals: [from, to, ...rest] }) {
    if (!from || !to || rest.length > 0)
      throw new UsageError(
        'squash needs two migrations, oldest first: squash <from> <to> (ids or folder names)',
      );
    return { from, to };
  },
  async run({ app, input }, out) {
    const [{ squash }, { appSettings }] = await Promise.all([
      import('../../migrations/squash.ts'),
      import('../../runtime.ts'),
    ]);
    const { settings } = appSettings(app);
    const result = await squash(app.migrationsDir, input.from, input.to, {
      settings,
      extensions: app.extensions,
    });
    out.result(
      result,
      `wrote ${result.dir} in place of ${result.replaced.length} migrations; a fresh database built from it matches the originals`,
    );
    return 0;
  },
});
