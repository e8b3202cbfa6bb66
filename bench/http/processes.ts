import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../free-port.ts';

interface Launch {
  env: NodeJS.ProcessEnv;
  cwd: string;
  readyPath: string;
}

/**
 * A server under test: its URL and its process (with `serve --workers N`, the primary), which `restartServer`
 * replaces.
 */
export interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  readonly command: string[];
  readonly launch: Launch;
}

/** Starts a server on a free port and resolves once `readyPath` answers 200. */
export async function startServer(name: string, command: string[], launch: Launch): Promise<Server> {
  const { url, child } = await spawnReady(name, command, launch);
  return { name, url, child, command, launch };
}

/** Stops `server` (SIGTERM), and once it has exited starts it afresh in its place, on a new port. */
export async function restartServer(server: Server): Promise<void> {
  await stopServer(server);
  Object.assign(server, await spawnReady(server.name, server.command, server.launch));
}

/** Sends SIGTERM and resolves once the process has exited. */
export async function stopServer({ child }: Server): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function spawnReady(
  name: string,
  command: string[],
  { env, cwd, readyPath }: Launch,
): Promise<{ url: string; child: ChildProcess }> {
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
    if (response?.status === 200) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`${name} did not become ready:\n${errors}`);
}
