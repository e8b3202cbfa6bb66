import { join, resolve } from 'node:path';
import { appCommand, withAppDatabase } from '../database-command.ts';

export const pullCommand = appCommand({
  name: 'pull',
  summary:
    'write schema.ts from a live database (tables, columns, defaults, identities, enums, keys, CHECKs, indexes, views) and list what only SQL can keep',
  usage: 'pull [--schema <name>]... [--out <file>] [--force] [--app <name>] [--json]',
  options: {
    schema: {
      type: 'string',
      multiple: true,
      description: 'a PostgreSQL schema to read (default public); repeatable',
    },
    out: { type: 'string', description: "where schema.ts goes (default the app's src/schema.ts)" },
    force: { type: 'boolean', description: 'replace an existing schema.ts that differs' },
  },
  examples: [
    'groundwork db pull --force                 # adopting a database: then groundwork db baseline',
    'groundwork db pull --schema public --schema billing --out src/pulled.ts',
  ],
  async run({ app, values }, out) {
    const [{ indexOperatorClasses, loadPulledSchema, pullSchema, unexpressedBy }, { appSettings }] =
      await Promise.all([import('../../adopt/pull.ts'), import('../../runtime.ts')]);
    const { settings } = appSettings(app);
    const outFile = values.out ? resolve(values.out) : join(app.dir, 'src', 'schema.ts');
    const shadow = { settings, extensions: app.extensions };
    const operatorClasses = await withAppDatabase(app, ({ handle }) => indexOperatorClasses(handle));
    // drizzle-kit reads the database in its own process: an embedded one must not be open here meanwhile
    const { file } = await pullSchema({
      settings,
      schemas: values.schema?.length ? values.schema : ['public'],
      outFile,
      force: values.force,
      operatorClasses,
    });
    out.line(`wrote ${file}`);
    const extra = await withAppDatabase(app, async ({ handle }) =>
      unexpressedBy(handle, shadow, await loadPulledSchema(file, handle, shadow, app.migrationsDir)),
    );
    const lines = [
      ...(extra.objects.length
        ? [
            `Drizzle cannot express ${extra.objects.length} object(s); \`groundwork db baseline\` keeps them as SQL in the baseline migration:`,
            ...extra.objects.map((object) => `  ${object}`),
          ]
        : ['schema.ts expresses the whole database.']),
      ...(extra.unresolved.length
        ? [
            `schema.ts differs from the live database where no kept SQL helps; fix schema.ts before baseline:`,
            ...extra.unresolved.map((line) => `  ${line}`),
          ]
        : []),
    ];
    out.result(
      { ok: extra.unresolved.length === 0, file, handWritten: extra.objects, unresolved: extra.unresolved },
      lines.join('\n'),
    );
    return extra.unresolved.length === 0 ? 0 : 1;
  },
});
