import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output.ts';

type ParseArgsOption = NonNullable<ParseArgsConfig['options']>[string];

/** A parseArgs option plus the line `--help` and docs/cli.md print for it. */
export type OptionDefinition = ParseArgsOption & { description?: string };
export type OptionSpec = Record<string, OptionDefinition>;

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** Shown by `--help` and docs/cli.md after the options: full command lines with a comment. */
  examples?: string[];
  /** Resolves to the exit code: 0 ok, 1 failure or check failed. */
  run(args: ParsedArgs, out: Output): Promise<number>;
}

export const APP_OPTION: OptionSpec = {
  app: { type: 'string', description: 'the app, by folder name (implied inside an app folder)' },
};
export const JSON_OPTION: OptionSpec = {
  json: { type: 'boolean', description: 'print one JSON document {ok, command, ...} instead of text' },
};
