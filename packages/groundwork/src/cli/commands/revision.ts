import { createRevision, mayBeRename } from '../../migrations/revision.ts';
import { resolveApp } from '../apps.ts';
import { APP_OPTION, type Command, JSON_OPTION } from '../command.ts';
import { UsageError } from '../output.ts';

export const revisionCommand: Command = {
  name: 'revision',
  summary:
    'create a migration: --autogenerate from schema.ts, --empty for hand-written SQL, or --merge to join two branches',
  usage:
    'revision -m <message> (--autogenerate|--empty|--merge) [--rename table.old=new|old_table=new_table]... [--app <name>] [--json]',
  options: {
    ...APP_OPTION,
    ...JSON_OPTION,
    message: { type: 'string', short: 'm' },
    autogenerate: { type: 'boolean' },
    empty: { type: 'boolean' },
    merge: { type: 'boolean' },
    rename: { type: 'string', multiple: true },
  },
  async run({ values }, out) {
    const message = values.message as string | undefined;
    if (!message) throw new UsageError('revision needs a message: -m "what it does"');
    if ([values.autogenerate, values.empty, values.merge].filter(Boolean).length !== 1) {
      throw new UsageError(
        'choose one: --autogenerate (diff schema.ts), --empty (hand-written) or --merge (join two heads)',
      );
    }
    const renames = (values.rename as string[] | undefined) ?? [];
    if (renames.length && !values.autogenerate) throw new UsageError('--rename goes with --autogenerate');
    const app = await resolveApp(values.app as string | undefined);
    let result: Awaited<ReturnType<typeof createRevision>>;
    try {
      result = await createRevision(app.migrationsDir, app.schema, {
        message,
        autogenerate: Boolean(values.autogenerate),
        merge: Boolean(values.merge),
        renames,
      });
    } catch (error) {
      if ((error as Error).message.startsWith('Invalid rename'))
        throw new UsageError((error as Error).message);
      throw error;
    }
    if (!result.dir) {
      out.result({ ...result, created: false }, 'No changes in schema: nothing written.');
      return 0;
    }
    for (const change of result.changes) out.line(`  ${change}`);
    for (const loss of result.dataLoss) process.stderr.write(`WARNING: data loss: ${loss}\n`);
    for (const warning of result.warnings) process.stderr.write(`WARNING: ${warning}\n`);
    if (mayBeRename(result.changes)) {
      process.stderr.write(
        'WARNING: if a drop+add above is a rename, regenerate with --rename to keep the data.\n',
      );
    }
    out.result(
      { ...result, created: true },
      `Created ${result.dir}${values.empty ? ' (write up.sql and down.sql by hand)' : values.merge ? '' : ' (review up.sql and down.sql)'}`,
    );
    return 0;
  },
};
