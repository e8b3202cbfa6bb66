import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findRoot } from '../../workspace.ts';
import { defineCommand, JSON_OPTION } from '../command.ts';
import { UsageError } from '../output.ts';

export const newCommand = defineCommand({
  name: 'new',
  summary:
    'copy the template app (users, owner rules, health, tests) under a new name, with its first migration',
  usage: 'new <app> [--dir <folder>] [--json]',
  options: {
    ...JSON_OPTION,
    dir: {
      type: 'string',
      description: 'where to write it (default: apps/<app> in a repository with apps/, else ./<app>)',
    },
  },
  examples: ['groundwork new billing            # then: cd apps/billing && npm test'],
  async run({ values, positionals }, out) {
    const name = positionals[0];
    if (!name) throw new UsageError('new needs the app name: groundwork new <app>');
    const root = findRoot();
    const dir = resolve(
      values.dir ?? (root && existsSync(join(root, 'apps')) ? join(root, 'apps', name) : name),
    );
    const { createApp, NewAppError } = await import('../../scaffold/new-app.ts');
    try {
      const created = await createApp(name, dir);
      out.result(
        created,
        `Created ${dir}: ${created.files.length} files and the first migration (${created.migration}).\n` +
          `Next: npm install, then npm test and npm start in ${dir}; see its README for calling the API.`,
      );
    } catch (error) {
      if (error instanceof NewAppError) throw new UsageError(error.message);
      throw error;
    }
    return 0;
  },
});
