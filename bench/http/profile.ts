import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Where a frame's own time goes: the npm package, groundwork's library or the app, Node's module (socket I/O,
 * streams, http), a native function by name, garbage collection or V8 itself.
 */
function categoryOf({ functionName, url }: { functionName: string; url: string }): string | undefined {
  if (functionName === '(idle)' || functionName === '(root)') return undefined;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native (unattributed)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg) return pkg === 'groundwork-pg' ? 'groundwork-pg' : pkg;
  if (/packages\/groundwork\/(dist|src)\//.test(url)) return 'groundwork-pg';
  if (/\/apps\/[^/]+\//.test(url)) return 'the app';
  if (/\/bench\/http\//.test(url)) return 'the floor';
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(url)?.[1];
  if (internal) return `node:${internal}`;
  return url === '' ? `native ${functionName || '(anonymous)'}` : url;
}

/** With PROFILE_FUNCTIONS=<category>: a frame of that category named by its function, file and line. */
function functionIn(frame: CpuProfile['nodes'][number]['callFrame'], category: string): string | undefined {
  if (categoryOf(frame) !== category) return undefined;
  const file = frame.url.split('/').slice(-2).join('/');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/**
 * Milliseconds of CPU by category (or, `within` a category, by its functions) in every profile of `dir` (a server and its workers), sampled from `fromUs`
 * on (the monotonic clock, as `process.hrtime` in µs): start-up is left out.
 */
export function profileByCategory(dir: string, fromUs: number, within?: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const categories = new Map(
      profile.nodes.map(({ id, callFrame }) => [
        id,
        within === undefined ? categoryOf(callFrame) : functionIn(callFrame, within),
      ]),
    );
    // Each sample's time is the delta to the next one.
    let at = profile.startTime + profile.timeDeltas[0]!;
    for (let i = 0; i < profile.samples.length - 1; i++) {
      at += profile.timeDeltas[i + 1]!;
      const category = categories.get(profile.samples[i]!);
      if (category === undefined || at < fromUs) continue;
      totals.set(category, (totals.get(category) ?? 0) + profile.timeDeltas[i + 1]! / 1000);
    }
  }
  return totals;
}

/**
 * Prints each category's CPU per request for every server profiled (its CPU from its first run on, divided by
 * the requests it answered, warm-ups included), the largest first, for the categories above `minUs` on any
 * server.
 */
export function printProfiles(
  servers: { name: string; dir: string; requests: number; fromUs: number }[],
  within?: string,
  minUs = within === undefined ? 1 : 0.3,
): void {
  const perRequest = servers.map(({ dir, requests, fromUs }) => {
    const byCategory = profileByCategory(dir, fromUs, within);
    return new Map([...byCategory].map(([category, ms]) => [category, (ms * 1000) / requests]));
  });
  const categories = [...new Set(perRequest.flatMap((costs) => [...costs.keys()]))]
    .filter((category) => perRequest.some((costs) => (costs.get(category) ?? 0) >= minUs))
    .sort((a, b) => (perRequest.at(-1)!.get(b) ?? 0) - (perRequest.at(-1)!.get(a) ?? 0));
  const total = (costs: Map<string, number>) => [...costs.values()].reduce((sum, us) => sum + us, 0);
  console.log(
    `\n### CPU profile${within === undefined ? '' : ` of ${within}, by function`}, µs per request\n`,
  );
  console.log(
    'Sampled CPU (`node --cpu-prof`, idle excluded) from the first run on, divided by the requests each server answered.\n',
  );
  console.log(`| where | ${servers.map((s) => s.name).join(' | ')} |`);
  console.log(`|---|${servers.map(() => '---|').join('')}`);
  const cell = (us: number | undefined) => (us === undefined ? '-' : us.toFixed(1));
  for (const category of categories) {
    console.log(`| ${category} | ${perRequest.map((costs) => cell(costs.get(category))).join(' | ')} |`);
  }
  console.log(`| **all** | ${perRequest.map((costs) => cell(total(costs))).join(' | ')} |`);
}
