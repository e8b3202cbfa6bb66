import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../redact.ts';
import { type Command, type OptionSpec, type ParsedArgs, parseCommandLine } from './command.ts';
import { authCommand } from './commands/auth.ts';
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { checkCommand } from './commands/check.ts';
import { currentCommand } from './commands/current.ts';
import { downgradeCommand } from './commands/downgrade.ts';
import { historyCommand } from './commands/history.ts';
import { openapiCommand } from './commands/openapi.ts';
import { resetCommand } from './commands/reset.ts';
import { revisionCommand } from './commands/revision.ts';
import { secretsCommand } from './commands/secrets.ts';
import { serveCommand } from './commands/serve.ts';
import { stampCommand } from './commands/stamp.ts';
import { upgradeCommand } from './commands/upgrade.ts';
import { hintFor, placeInUserCode } from './hints.ts';
import { colours, createOutput, UsageError } from './output.ts';
import { closest } from './suggest.ts';

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
  groundwork ${openapiCommand.usage}
      ${openapiCommand.summary}
  groundwork ${secretsCommand.usage}
      ${secretsCommand.summary}
  groundwork ${authCommand.usage}
      ${authCommand.summary}

In an app folder the app is implied; from the repository root pass --app <name>.
Every command takes --help; --json prints one document {ok, command, ...}; --verbose adds stack traces.
Exit codes: 0 ok, 1 failure or check failed, 2 usage error.
`;
}

const topCommands = [serveCommand, openapiCommand, secretsCommand, authCommand];

function pick(argv: string[]): { command: Command; name: string; rest: string[] } | undefined {
  const [first, second, ...rest] = argv;
  const top = topCommands.find((c) => c.name === first);
  if (top) return { command: top, name: top.name, rest: argv.slice(1) };
  if (first === 'db') {
    const command = dbCommands.find((c) => c.name === second);
    return command ? { command, name: `db ${command.name}`, rest } : undefined;
  }
  return undefined;
}

/** "unknown command" with the closest real one: `upgrade` (an Alembic habit) -> `db upgrade`. */
function unknownCommand(argv: string[]): string {
  const [first = '', second = ''] = argv;
  const names = [...topCommands.map((c) => c.name), ...dbCommands.map((c) => `db ${c.name}`)];
  const typed = first === 'db' ? `db ${second}` : first;
  const guess = closest(typed, names) ?? (first === 'db' ? undefined : closest(`db ${first}`, names));
  const suggestion = guess ? `\nDid you mean: groundwork ${guess}?` : '';
  return `${colours(process.stderr).red('error:')} unknown command "${argv.slice(0, first === 'db' ? 2 : 1).join(' ')}"${suggestion}\nRun groundwork --help for every command.\n`;
}

/** Node's parseArgs messages, in the CLI's words, with the closest option the command has. */
function optionProblem(error: { code?: string; message: string }, command: Command, name: string): string {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const guess = closest(unknown.replace(/^-+/, ''), Object.keys(command.options));
    return `unknown option ${unknown} for "groundwork ${name}"${guess ? ` (did you mean --${guess}?)` : ''}; see groundwork ${name} --help`;
  }
  return `${error.message.replace(/\. To specify a positional argument.*$/s, '')}; see groundwork ${name} --help`;
}

/** `groundwork db ` or `groundwork `: where the command sits on the command line. */
const invocation = (command: Command) => `groundwork ${dbCommands.includes(command) ? 'db ' : ''}`;

/** `groundwork <command> --help`: usage, what it does, every option, examples. */
export function commandHelp(command: Command): string {
  const usage = `${invocation(command)}${command.usage}`;
  const options = Object.entries(command.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag.padEnd(28)} ${option.description ?? ''}`.trimEnd();
  });
  const examples = (command.examples ?? []).map((example) => `  ${example}`);
  return [
    `usage: ${usage}`,
    '',
    `${command.summary}`,
    ...(options.length
      ? ['', 'options:', ...options, `  ${'--verbose'.padEnd(28)} show stack traces of errors`]
      : []),
    ...(examples.length ? ['', 'examples:', ...examples] : []),
    '',
  ].join('\n');
}

/** docs/cli.md: the same definitions as --help, as Markdown (a test keeps the file equal to this). */
export function cliReference(): string {
  const sections = [serveCommand, ...dbCommands, ...topCommands.slice(1)].map(
    (command) => `## ${invocation(command)}${command.name}\n\n\`\`\`\n${commandHelp(command)}\`\`\`\n`,
  );
  return `# groundwork CLI reference\n\nGenerated from the commands' definitions by \`npm run docs:cli\`; \`groundwork <command> --help\` prints the same.\n\n\`\`\`\n${helpText()}\`\`\`\n\n${sections.join('\n')}`;
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
    process.stderr.write(unknownCommand(argv));
    return 2;
  }
  const { command, name, rest } = picked;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const json = rest.includes('--json');
  const verbose = rest.includes('--verbose');
  const red = colours(process.stderr).red;
  const fail = (message: string, hint: string | undefined) => {
    if (json)
      process.stdout.write(
        `${JSON.stringify({ ok: false, command: name, error: message, ...(hint ? { hint } : {}) })}\n`,
      );
    process.stderr.write(`${red('error:')} ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  };
  try {
    // `-1`, `-2`: relative revisions, not options.
    const relative = rest.filter((arg) => /^-\d+$/.test(arg));
    let parsed: ParsedArgs<OptionSpec>;
    try {
      parsed = parseCommandLine(
        command,
        rest.filter((arg) => !relative.includes(arg) && arg !== '--verbose'),
      );
    } catch (error) {
      throw new UsageError(optionProblem(error as { code?: string; message: string }, command, name));
    }
    return await command.run(
      { values: parsed.values, positionals: [...relative, ...parsed.positionals] },
      createOutput(json, name),
    );
  } catch (error) {
    const place = error instanceof UsageError ? undefined : placeInUserCode(error);
    const message = redactSecrets(
      `${error instanceof Error ? error.message : String(error)}${place ? ` (at ${place})` : ''}`,
    );
    fail(message, hintFor(error));
    if (verbose) {
      for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
        process.stderr.write(`${depth ? 'caused by: ' : ''}${redactSecrets(cause.stack ?? String(cause))}\n`);
        cause = cause.cause;
      }
    }
    return error instanceof UsageError ? 2 : 1;
  }
}
