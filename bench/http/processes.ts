import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../free-port.ts';

/** A server under test: its URL and its process (with `serve --workers N`, the primary). */
export interface Server {
  name: string;
  url: string;
  child: ChildProcess;
}

/** Starts a server on a free port and resolves once `readyPath` answers 200. */
export async function startServer(
  name: string,
  command: string[],
  { env, cwd, readyPath }: { env: NodeJS.ProcessEnv; cwd: string; readyPath: string },
): Promise<Server> {
  const port = await freePort();
  // Log lines go to a pipe that is drained, as a log collector would: their cost is part of the figure.
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stdout!.resume();
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) break;
    const response = await fetch(`${url}${readyPath}`).catch(() => undefined);
    await response?.body?.cancel();
    if (response?.status === 200) return { name, url, child };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`${name} did not become ready:\n${errors}`);
}
