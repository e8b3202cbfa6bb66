import { databaseCommand } from '../database-command.ts';

export const baselineCommand = databaseCommand({
  name: 'baseline',
  summary:
    'start the history of a database made by other means (Alembic): a first migration of the current schema, recorded as applied without running',
  usage: 'baseline [-m <message>] [--app <name>] [--json]',
  options: {
    message: {
      type: 'string',
      short: 'm',
      description: "up.sql's first line (default: baseline of the existing database)",
    },
  },
  examples: [
    'groundwork db pull --force && groundwork db baseline   # then check passes; alembic_version stays until you drop it',
  ],
  async run({ app, handle, settings, values }, out) {
    const { baseline } = await import('../../adopt/baseline.ts');
    const result = await baseline(handle, app.migrationsDir, app.schema, {
      shadow: { settings, extensions: app.extensions },
      environment: settings.nodeEnv,
      message: values.message,
      log: out.line,
    });
    out.result(
      result,
      [
        `wrote ${result.dir} and recorded it as applied (nothing ran)`,
        ...(result.handWritten.length ? [`kept as SQL: ${result.handWritten.join(', ')}`] : []),
        ...(result.alembicRevision
          ? [
              `replaces Alembic revision ${result.alembicRevision}; drop alembic_version once nothing runs Alembic`,
            ]
          : []),
      ].join('\n'),
    );
    return 0;
  },
});
