import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpuMs, loadAverage, processTree } from '../proc.ts';
import type { Server } from './processes.ts';

const run = promisify(execFile);
/** wrk's threads (its -t). */
const THREADS = 2;

/** One wrk run against one server. */
export interface Run {
  rps: number;
  requests: number;
  p99Ms: number;
  /** The server's CPU time (user + system, with its workers) per request. */
  cpuUs: number;
  /** Answers that were not 2xx (wrk does not say which status). */
  errors: number;
  /** Load averages just before the run. */
  load: string;
}

/** What a scenario sends: Lua expressions, in which `id` is the user the request is for. */
export interface RequestShape {
  method: 'GET' | 'PATCH';
  path: string;
  body?: string;
}

/**
 * Who the requests come from: one credential for every request (an operator key, for a random one of `ids`),
 * or each user with their own token, for their own row.
 */
export type Callers =
  | { kind: 'operator'; key: string; ids: string[] }
  | { kind: 'users'; users: { id: string; token: string }[] };

const luaString = (value: string) => `'${value.replace(/[\\']/g, '\\$&')}'`;

/** A wrk script sending `shape` as `callers`. */
export function wrkScript(shape: RequestShape, callers: Callers): string {
  const headers = [
    `['authorization'] = 'Bearer ' .. token`,
    ...(shape.body ? [`['content-type'] = 'application/json'`] : []),
  ];
  const send = `return wrk.format('${shape.method}', ${shape.path}, { ${headers.join(', ')} }${
    shape.body ? `, ${shape.body}` : ''
  })`;
  if (callers.kind === 'operator') {
    return `local token = ${luaString(callers.key)}
local ids = { ${callers.ids.map(luaString).join(', ')} }
request = function()
  local id = ids[math.random(#ids)]
  ${send}
end
`;
  }
  // Each wrk thread has its own share of the users and takes them in turn, so the requests in flight at one
  // time are for different users, as when each user sends their own (no two PATCHes queue on one row lock).
  const share = Math.floor(callers.users.length / THREADS);
  return `local users = { ${callers.users.map((u) => `{ ${luaString(u.id)}, ${luaString(u.token)} }`).join(', ')} }
local threads = 0
function setup(thread)
  thread:set('first', threads * ${share} + 1)
  thread:set('turn', 0)
  threads = threads + 1
end
request = function()
  local user = users[first + turn]
  turn = (turn + 1) % ${share}
  local id, token = user[1], user[2]
  ${send}
end
`;
}

/** Drives `server` with wrk for `seconds` over `connections` keep-alive connections. */
export async function runWrk(
  server: Server,
  script: string,
  seconds: number,
  connections: number,
): Promise<Run> {
  const load = loadAverage();
  // The primary and its workers (serve --workers N), as they are when the run starts.
  const tree = processTree(server.child.pid!);
  const cpuBefore = cpuMs(tree);
  const { stdout } = await run('wrk', [
    `-t${THREADS}`,
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    script,
    server.url,
  ]);
  const cpu = cpuMs(tree) - cpuBefore;
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const unit = { us: 0.001, ms: 1, s: 1000 }[p99?.[2] as 'us' | 'ms' | 's'];
  return { rps, requests, p99Ms: Number(p99?.[1]) * unit, cpuUs: (cpu * 1000) / requests, errors, load };
}
