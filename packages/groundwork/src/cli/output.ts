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
  /**
   * The command's result. Under --json, one document in the envelope every command shares:
   * `{ ok, command, ...data }` (`ok` is true unless `data` says otherwise). Else the given human text.
   */
  result(data: object, human?: string): void;
}

/** Colour only for a person at a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colours(stream: NodeJS.WriteStream): {
  red(text: string): string;
  dim(text: string): string;
} {
  const on = stream.isTTY === true && !process.env.NO_COLOR;
  const wrap = (open: number, close: number) => (text: string) =>
    on ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return { red: wrap(31, 39), dim: wrap(2, 22) };
}

export function createOutput(json: boolean, command: string): Output {
  return {
    json,
    line: (text) => {
      if (!json) process.stdout.write(`${redactSecrets(text)}\n`);
    },
    result: (data, human) => {
      if (json) process.stdout.write(`${JSON.stringify({ ok: true, command, ...data }, null, 2)}\n`);
      else if (human !== undefined) process.stdout.write(`${redactSecrets(human)}\n`);
    },
  };
}
