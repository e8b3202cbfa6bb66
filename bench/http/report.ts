import type { Server } from './processes.ts';
import type { Run } from './wrk.ts';

/** A set of scenarios run against one baseline (a floor, or one worker) and the servers compared to it. */
export interface Suite {
  name: string;
  /** What the requests carry and what the baseline does, for the report. */
  about: string;
  baseline: Server;
  contenders: Server[];
  scenarios: Scenario[];
  /** Highest p99 latency allowed, as a multiple of the baseline's; none when unset. */
  p99Limit?: number;
}

export interface Scenario {
  name: string;
  /** The wrk script file. */
  script: string;
  /** Lowest median throughput ratio to the baseline, by contender name; none for a contender not listed. */
  targets: Record<string, number>;
}

/** Every run, by suite, scenario and server name. */
export type Results = Map<string, Run[]>;
export const resultKey = (suite: Suite, scenario: Scenario, server: Server) =>
  `${suite.name}|${scenario.name}|${server.name}`;

export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
}
const count = (value: number) => Math.round(value).toLocaleString('en-US');
const µs = (value: number) => `${Math.round(value)} µs`;

/**
 * Prints a suite's medians (throughput; the ratio to the baseline as the median of each round's ratio to the
 * baseline's run in the same round, with the lowest and highest in brackets; CPU per request with the
 * baseline's divided by the server's; p99), then every round's figures. Answers the targets missed.
 */
export function printSuite(suite: Suite, results: Results): string[] {
  const missed: string[] = [];
  const servers = [suite.baseline, ...suite.contenders];
  console.log(`\n### ${suite.name}\n\n${suite.about} Ratios are to ${suite.baseline.name}.\n`);
  console.log(
    '| scenario | server | req/s | ratio [rounds] | CPU per request | CPU ratio | p99 | non-2xx | target |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const scenario of suite.scenarios) {
    const runs = (server: Server) => results.get(resultKey(suite, scenario, server)) ?? [];
    const base = runs(suite.baseline);
    const baseCpu = median(base.map((r) => r.cpuUs));
    const baseP99 = median(base.map((r) => r.p99Ms));
    for (const server of servers) {
      const own = runs(server);
      const rps = median(own.map((r) => r.rps));
      const cpu = median(own.map((r) => r.cpuUs));
      const p99 = median(own.map((r) => r.p99Ms));
      const errors = own.reduce((sum, r) => sum + r.errors, 0);
      const cells = [scenario.name, server.name, count(rps)];
      if (server === suite.baseline) {
        cells.push('-', µs(cpu), '-', `${p99.toFixed(1)} ms`, String(errors), '-');
      } else {
        // Paired by round: a machine's speed drifts over a run, and both runs of one round share its speed.
        const perRound = own.map((r, i) => r.rps / base[i]!.rps);
        const ratio = median(perRound);
        const p99Ratio = p99 / baseP99;
        const target = scenario.targets[server.name];
        // A fast error is not a fast request: any non-2xx answer misses the target.
        const met =
          (target === undefined || ratio >= target) &&
          (suite.p99Limit === undefined || p99Ratio <= suite.p99Limit) &&
          errors === 0;
        const judged = target !== undefined || suite.p99Limit !== undefined;
        if (judged && !met) missed.push(`${suite.name}: ${scenario.name}, ${server.name}`);
        const limits = [
          ...(target === undefined ? [] : [`>= ${target.toFixed(2)}`]),
          ...(suite.p99Limit === undefined ? [] : [`p99 <= ${suite.p99Limit}x`]),
        ];
        cells.push(
          `${ratio.toFixed(2)} [${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)}]`,
          µs(cpu),
          (baseCpu / cpu).toFixed(2),
          `${p99.toFixed(1)} ms (${p99Ratio.toFixed(2)}x)`,
          String(errors),
          judged ? `${limits.join(', ')}: ${met ? 'met' : '**MISSED**'}` : '-',
        );
      }
      console.log(`| ${cells.join(' | ')} |`);
    }
  }
  const rounds = (results.get(resultKey(suite, suite.scenarios[0]!, suite.baseline)) ?? []).length;
  const numbers = Array.from({ length: rounds }, (_, i) => i + 1);
  console.log('\nEach round: req/s, CPU per request, load average (1 min) when the run began.\n');
  console.log(`| scenario | server | ${numbers.map((n) => `round ${n}`).join(' | ')} |`);
  console.log(`|---|---|${numbers.map(() => '---|').join('')}`);
  for (const scenario of suite.scenarios) {
    for (const server of servers) {
      const cells = (results.get(resultKey(suite, scenario, server)) ?? []).map(
        (r) =>
          `${count(r.rps)}, ${µs(r.cpuUs)}, ${r.load.split(' ')[0]}${r.errors ? `, ${r.errors} non-2xx` : ''}`,
      );
      console.log(`| ${scenario.name} | ${server.name} | ${cells.join(' | ')} |`);
    }
  }
  return missed;
}
