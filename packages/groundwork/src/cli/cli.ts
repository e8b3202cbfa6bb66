import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../redact.ts';
import { type Command, type OptionSpec, type ParsedArgs, parseCommandLine } from './command.ts';
import { authCommand } from './commands/auth.ts';
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { baselineCommand } from './commands/baseline.ts';
import { checkCommand } from './commands/check.ts';
import { currentCommand } from './commands/current.ts';
import { downgradeCommand } from './commands/downgrade.ts';
import { historyCommand } from './commands/history.ts';
import { lintCommand } from './commands/lint.ts';
import { newCommand } from './commands/new.ts';
import { openapiCommand } from './commands/openapi.ts';
import { pullCommand } from './commands/pull.ts';
import { resetCommand } from './commands/reset.ts';
import { revisionCommand } from './commands/revision.ts';
import { secretsCommand } from './commands/secrets.ts';
import { seedCommand } from './commands/seed.ts';
import { serveCommand } from './commands/serve.ts';
import { squashCommand } from './commands/squash.ts';
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
  lintCommand,
  stampCommand,
  pullCommand,
  baselineCommand,
  squashCommand,
  seedCommand,
  resetCommand,
  backupCommand,
  restoreCommand,
];

/** A command and the group word typed before its name, if any (`db` upgrade). */
interface Entry {
  group?: string;
  command: Command;
}

/** Every command in the order --help and docs/cli.md list them; dispatch and suggestions read only this. */
export const COMMANDS: Entry[] = [
  { command: newCommand },
  { command: serveCommand },
  ...dbCommands.map((command) => ({ group: 'db', command })),
  { command: openapiCommand },
  { command: secretsCommand },
  { command: authCommand },
];
const GROUPS = new Set(COMMANDS.flatMap((entry) => entry.group ?? []));

/** What is typed after `groundwork` to run it: `serve`, `db upgrade`. */
const wordsOf = (entry: Entry) => (entry.group ? [entry.group, entry.command.name] : [entry.command.name]);
const nameOf = (entry: Entry) => wordsOf(entry).join(' ');
/** `groundwork db upgrade [head|<id>] ...`: the usage line as typed. */
const usageOf = (entry: Entry) => `groundwork ${entry.group ? `${entry.group} ` : ''}${entry.command.usage}`;

export function helpText(): string {
  const commands = COMMANDS.map((entry) => `  ${usageOf(entry)}\n      ${entry.command.summary}`);
  return `groundwork: PostgreSQL foundation for TypeScript backends

Usage:
  groundwork --version
${commands.join('\n')}

In an app folder the app is implied; from the repository root pass --app <name>.
Every command takes --help; --json prints one document {ok, command, ...}; --verbose adds stack traces.
Exit codes: 0 ok, 1 failure or check failed, 2 usage error.
`;
}

function pick(argv: string[]): { entry: Entry; rest: string[] } | undefined {
  const entry = COMMANDS.find((candidate) => wordsOf(candidate).every((word, i) => argv[i] === word));
  return entry && { entry, rest: argv.slice(wordsOf(entry).length) };
}

/** "unknown command" with the closest real one: `upgrade` (an Alembic habit) -> `db upgrade`. */
function unknownCommand(argv: string[]): string {
  const [first = ''] = argv;
  const typed = argv.slice(0, GROUPS.has(first) ? 2 : 1).join(' ');
  const names = COMMANDS.map(nameOf);
  const inGroup = () => [...GROUPS].map((group) => closest(`${group} ${first}`, names)).find(Boolean);
  const guess = closest(typed, names) ?? (GROUPS.has(first) ? undefined : inGroup());
  const suggestion = guess ? `\nDid you mean: groundwork ${guess}?` : '';
  return `${colours(process.stderr).red('error:')} unknown command "${typed}"${suggestion}\nRun groundwork --help for every command.\n`;
}

/** Node's parseArgs messages, in the CLI's words, with the closest option the command has. */
function optionProblem(error: { code?: string; message: string }, entry: Entry): string {
  const name = nameOf(entry);
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const guess = closest(unknown.replace(/^-+/, ''), Object.keys(entry.command.options));
    return `unknown option ${unknown} for "groundwork ${name}"${guess ? ` (did you mean --${guess}?)` : ''}; see groundwork ${name} --help`;
  }
  return `${error.message.replace(/\. To specify a positional argument.*$/s, '')}; see groundwork ${name} --help`;
}

/** The command's values and positionals; `-1`, `-2` are relative revisions, not options. */
function parseFor(entry: Entry, args: string[]): ParsedArgs<OptionSpec> {
  const relative = args.filter((arg) => /^-\d+$/.test(arg));
  try {
    const { values, positionals } = parseCommandLine(
      entry.command,
      args.filter((arg) => !relative.includes(arg) && arg !== '--verbose'),
    );
    return { values, positionals: [...relative, ...positionals] };
  } catch (error) {
    throw new UsageError(optionProblem(error as { code?: string; message: string }, entry));
  }
}

/** `groundwork <command> --help`: usage, what it does, every option, examples. */
function commandHelp({ group, command }: Entry): string {
  const options = Object.entries(command.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag.padEnd(28)} ${option.description}`;
  });
  const examples = command.examples.map((example) => `  ${example}`);
  return [
    `usage: ${usageOf({ group, command })}`,
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
  const sections = COMMANDS.map(
    (entry) => `## groundwork ${nameOf(entry)}\n\n\`\`\`\n${commandHelp(entry)}\`\`\`\n`,
  );
  return `# groundwork CLI reference\n\nGenerated from the commands' definitions by \`npm run docs:cli\`; \`groundwork <command> --help\` prints the same.\n\n\`\`\`\n${helpText()}\`\`\`\n\n${sections.join('\n')}`;
}

/** This package's version: src/cli and dist/cli both sit two folders below package.json. */
export function version(): string {
  const manifest = join(import.meta.dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  // `groundwork` and `groundwork db` alone are usage errors that show the commands; --help is not
  const [first = '', second] = argv;
  const bare = argv.length === 0 || (GROUPS.has(first) && second === undefined);
  if (bare || isHelp(first) || first === 'help' || (GROUPS.has(first) && isHelp(second))) {
    process.stdout.write(helpText());
    return bare ? 2 : 0;
  }
  const picked = pick(argv);
  if (!picked) {
    process.stderr.write(unknownCommand(argv));
    return 2;
  }
  const { entry, rest } = picked;
  const { command } = entry;
  const name = nameOf(entry);
  if (rest.some(isHelp)) {
    process.stdout.write(commandHelp(entry));
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
    return await command.run(parseFor(entry, rest), createOutput(json, name));
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
