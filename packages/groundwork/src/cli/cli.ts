import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { redactSecrets } from '../redact.ts';
import type { Command } from './command.ts';
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { checkCommand } from './commands/check.ts';
import { currentCommand } from './commands/current.ts';
import { downgradeCommand } from './commands/downgrade.ts';
import { historyCommand } from './commands/history.ts';
import { resetCommand } from './commands/reset.ts';
import { revisionCommand } from './commands/revision.ts';
import { secretsCommand } from './commands/secrets.ts';
import { serveCommand } from './commands/serve.ts';
import { stampCommand } from './commands/stamp.ts';
import { upgradeCommand } from './commands/upgrade.ts';
import { createOutput, UsageError } from './output.ts';

export const dbCommands: Command[] = [
  upgradeCommand,
  downgradeCommand,
  currentCommand,
  historyCommand,
  revisionCommand,
  checkCommand,
  stampCommand,
  resetCommand,
  backupCommand,
  restoreCommand,
];

export function helpText(): string {
  const db = dbCommands.map((c) => `  groundwork db ${c.usage}\n      ${c.summary}`).join('\n');
  return `groundwork: PostgreSQL foundation for TypeScript backends

Usage:
  groundwork --version
  groundwork ${serveCommand.usage}
      ${serveCommand.summary}
${db}
  groundwork ${secretsCommand.usage}
      ${secretsCommand.summary}

In an app folder the app is implied; from the repository root pass --app <name>.
Exit codes: 0 ok, 1 failure or check failed, 2 usage error.
`;
}

function pick(argv: string[]): { command: Command; rest: string[] } | undefined {
  const [first, second, ...rest] = argv;
  if (first === 'serve') return { command: serveCommand, rest: argv.slice(1) };
  if (first === 'secrets') return { command: secretsCommand, rest: argv.slice(1) };
  if (first === 'db') {
    const command = dbCommands.find((c) => c.name === second);
    return command ? { command, rest } : undefined;
  }
  return undefined;
}

/** This package's version: src/cli and dist/cli both sit two folders below package.json. */
export function version(): string {
  const manifest = join(import.meta.dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(helpText());
    return argv.length === 0 ? 2 : 0;
  }
  const picked = pick(argv);
  if (!picked) {
    process.stderr.write(`error: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${helpText()}`);
    return 2;
  }
  const { command, rest } = picked;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(
      `usage: groundwork ${command === serveCommand || command === secretsCommand ? '' : 'db '}${command.usage}\n  ${command.summary}\n`,
    );
    return 0;
  }
  const json = rest.includes('--json');
  try {
    // `-1`, `-2`: relative revisions, not options.
    const relative = rest.filter((arg) => /^-\d+$/.test(arg));
    const { values, positionals } = parseArgs({
      args: rest.filter((arg) => !relative.includes(arg)),
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
    return await command.run({ values, positionals: [...relative, ...positionals] }, createOutput(json));
  } catch (error) {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
    process.stderr.write(`error: ${message}\n`);
    return usage ? 2 : 1;
  }
}
