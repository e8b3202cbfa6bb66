import { databaseCommand } from '../database-command.ts';

export const seedCommand = databaseCommand({
  name: 'seed',
  summary:
    "insert the app's sample rows (src/seed.ts, idempotent) in one transaction; refused in production unless --force",
  usage: 'seed [--force] [--app <name>] [--json]',
  options: {
    force: { type: 'boolean', description: 'seed even when NODE_ENV=production' },
  },
  examples: [
    'groundwork db seed                         # after upgrade; npm start seeds a fresh embedded database itself',
  ],
  async run({ app, handle, settings, values }, out) {
    const { runSeed } = await import('../../seed/seed.ts');
    const result = await runSeed(handle, app.dir, {
      environment: settings.nodeEnv,
      force: values.force,
      log: out.line,
    });
    out.result(result, `seeded from ${result.file}`);
    return 0;
  },
});
