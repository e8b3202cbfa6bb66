/** Writes docs/cli.md from the commands' definitions (npm run docs:cli); test/docs.test.ts keeps it current. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliReference } from '../src/cli/cli.ts';

writeFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'cli.md'), cliReference());
