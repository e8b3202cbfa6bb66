import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The CLI from source (Node strips the types), so these tests never run a stale build. */
export const bin = join(import.meta.dirname, '..', '..', 'src', 'cli', 'bin.ts');
export const notesDir = join(import.meta.dirname, 'notes');
/**
 * Node with the flags for the processes tests start: they live for seconds, too short for V8's optimizing
 * tier to pay for itself on PGlite's WebAssembly (without it PGlite starts sooner, on less CPU).
 */
export const testNode = [process.execPath, '--liftoff-only'] as const;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** The exit code, with the time it exited (performance.now()). */
  exited: Promise<{ code: number | null; at: number }>;
}

/** Starts `groundwork serve` (or `command`) as a real process on a spare port and resolves once it listens. */
export function startServer(
  options: { command?: string[]; cwd?: string; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const command = options.command ?? [...testNode, bin, 'serve'];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: options.cwd ?? notesDir,
    env: {
      ...process.env,
      PORT: '0',
      DATABASE_URL: '',
      TEST_DATABASE_URL: '',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: performance.now() })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code }) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}
