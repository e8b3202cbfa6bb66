import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveApp } from '../apps.ts';
import { defineCommand } from '../command.ts';

export const openapiCommand = defineCommand({
  name: 'openapi',
  summary: "print the app's OpenAPI 3 document (JSON), or write it to a file, for client generators",
  usage: 'openapi [app] [--out <file>]',
  options: {
    out: { type: 'string', description: 'write the document to this file instead of stdout' },
  },
  examples: [
    'groundwork openapi learnr --out learnr.openapi.json',
    'npx openapi-typescript learnr.openapi.json --default-non-nullable=false -o learnr-api.d.ts   # typed client',
  ],
  async run({ values, positionals }, out) {
    const app = await resolveApp(positionals[0]);
    const [{ emptyInMemoryPglite }, { loadSettings }, { openDatabase }, { startApp }, { buildServer }] =
      await Promise.all([
        import('../../database/pglite-cluster.ts'),
        import('../../config.ts'),
        import('../../database/open.ts'),
        import('../../runtime.ts'),
        import('../../server.ts'),
      ]);
    // The document needs the routes, not data: an empty in-memory database stands in, and nothing is queried.
    const settings = loadSettings({ appName: app.name, readDotenv: false, env: { NODE_ENV: 'development' } });
    const pglite = await emptyInMemoryPglite();
    const handle = await openDatabase(settings, { schema: app.schema, pglite });
    try {
      const running = await startApp(app, { settings, handle, migrate: false, verify: false });
      const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
      // The same document the docs UI serves (each app's swagger lives in its own encapsulated scope).
      const response = await server.inject({ method: 'GET', url: '/docs/json' });
      await server.close();
      const document = `${JSON.stringify(response.json(), null, 2)}\n`;
      if (values.out !== undefined) {
        writeFileSync(resolve(values.out), document);
        out.line(`wrote ${resolve(values.out)}`);
      } else {
        process.stdout.write(document);
      }
      return 0;
    } finally {
      await handle.close();
      await pglite.close();
    }
  },
});
