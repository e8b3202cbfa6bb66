import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** Resolves to the exit code: 0 ok, 1 failure or check failed. */
  run(args: ParsedArgs, out: Output): Promise<number>;
}

export const APP_OPTION: OptionSpec = { app: { type: 'string' } };
export const JSON_OPTION: OptionSpec = { json: { type: 'boolean' } };
