import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** Fields of /proc/<pid>/stat after the command name (its 3rd field is the 1st here), or undefined. */
function statFields(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms, user + system) a process and its live descendants (the workers of `serve --workers N`) have
 * used so far, from /proc (Linux); NaN elsewhere.
 */
export function treeCpuMs(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    const ppid = Number.isInteger(child) ? statFields(child)?.[1] : undefined;
    if (ppid !== undefined) parents.set(child, Number(ppid));
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const member of tree) {
    const fields = statFields(member);
    if (!fields) {
      if (member === pid) return Number.NaN;
      continue;
    }
    // utime and stime are the 14th and 15th fields of stat, in clock ticks (100 per second).
    total += (Number(fields[11]) + Number(fields[12])) * 10;
  }
  return total;
}

/** The 1, 5 and 15 minute load averages (Linux), e.g. "2.31 1.90 1.42"; "?" elsewhere. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}
