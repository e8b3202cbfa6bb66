import { redactSecrets } from '../redact.ts';

/** Wrong words on the command line: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Output {
  json: boolean;
  /** Human progress lines; silent under --json so stdout stays parseable. */
  line(text: string): void;
  /** The command's result: JSON under --json, else the given human text. */
  result(data: unknown, human?: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line: (text) => {
      if (!json) process.stdout.write(`${redactSecrets(text)}\n`);
    },
    result: (data, human) => {
      if (json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else if (human !== undefined) process.stdout.write(`${redactSecrets(human)}\n`);
    },
  };
}
