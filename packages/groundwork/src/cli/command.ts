import { type ParseArgsOptionDescriptor, parseArgs } from 'node:util';
import type { Output } from './output.ts';

/** A parseArgs option plus the line `--help` and docs/cli.md print for it. */
export type OptionDefinition = ParseArgsOptionDescriptor & { description: string };
export type OptionSpec = Record<string, OptionDefinition>;

type ParseConfig<O extends OptionSpec> = { args: string[]; options: O; strict: true; allowPositionals: true };
/** The values parseArgs gives for `O`: `--app <value>` is a string, `--rename` (multiple) a string[]. */
export type OptionValues<O extends OptionSpec> = ReturnType<typeof parseArgs<ParseConfig<O>>>['values'];

export interface ParsedArgs<O extends OptionSpec> {
  values: OptionValues<O>;
  positionals: string[];
}

export interface Command<O extends OptionSpec = OptionSpec> {
  name: string;
  summary: string;
  usage: string;
  options: O;
  /** Shown by `--help` and docs/cli.md after the options: full command lines with a comment. */
  examples: string[];
  /** Resolves to the exit code: 0 ok, 1 failure or check failed. */
  run(args: ParsedArgs<O>, out: Output): Promise<number>;
}

/** Infers `O` from the options written inline, so `run` sees each value's type. */
export const defineCommand = <O extends OptionSpec>(command: Command<O>): Command<O> => command;

/** Parses `args` with the command's own options (strict: an unknown option throws). */
export function parseCommandLine<O extends OptionSpec>(command: Command<O>, args: string[]): ParsedArgs<O> {
  return parseArgs({ args, options: command.options, strict: true, allowPositionals: true });
}

export const APP_OPTION = {
  app: { type: 'string', description: 'the app, by folder name (implied inside an app folder)' },
} satisfies OptionSpec;
export const JSON_OPTION = {
  json: { type: 'boolean', description: 'print one JSON document {ok, command, ...} instead of text' },
} satisfies OptionSpec;
