/**
 * adapters/node-resolve.ts answers some of Node's module resolution itself. This file pins the Node majors
 * it was written for and checks, in a fresh process, that for every module drizzle-orm's entry points load
 * the adapter's answer is exactly Node's own. When it fails on a new Node, re-check Node's resolver (format
 * and real path of an ESM package's files) and whether the per-module `exports` parsing the adapter avoids
 * is still there: if Node fixed it, the adapter can go.
 */
import { execFileSync } from 'node:child_process';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const WRITTEN_FOR = [22, 24];
const RECHECK = "adapters/node-resolve.ts repeats part of Node's resolver: re-check it against this Node";
const major = Number(process.versions.node.split('.')[0]);

/** Runs in a new process: resolves every import both ways while drizzle-orm loads, and prints the tally. */
const COMPARE = `
import { registerHooks } from 'node:module';
const { installedModuleResolver } = await import(process.env.ADAPTER_URL);
const ours = installedModuleResolver();
const tally = { compared: 0, declined: 0, mismatches: [] };
registerHooks({
  resolve(specifier, context, nextResolve) {
    const node = nextResolve(specifier, context);
    const answer = ours(specifier, context.parentURL);
    if (!answer) tally.declined++;
    else {
      tally.compared++;
      if (answer.url !== node.url || answer.format !== node.format) {
        tally.mismatches.push({ specifier, parent: context.parentURL, ours: answer, node });
      }
    }
    return node;
  },
});
await import('drizzle-orm/pg-core');
await import('drizzle-orm/postgres-js');
console.log(JSON.stringify(tally));
`;

describe(`adapters/node-resolve.ts, written for Node ${WRITTEN_FOR.join(' and ')}`, () => {
  it('runs on a Node major it was written for', () => {
    expect(WRITTEN_FOR, `Node ${process.versions.node}: ${RECHECK}`).toContain(major);
    expect(typeof registerHooks, RECHECK).toBe('function');
  });

  it("answers what Node's resolver answers for every relative import drizzle-orm loads", () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '--eval', COMPARE], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: {
        ...process.env,
        ADAPTER_URL: new URL('../../src/adapters/node-resolve.ts', import.meta.url).href,
      },
      encoding: 'utf8',
    });
    const tally = JSON.parse(output) as { compared: number; declined: number; mismatches: unknown[] };
    expect(tally.mismatches, RECHECK).toEqual([]);
    // drizzle-orm's entry points load hundreds of modules by relative .js imports: the case the adapter takes.
    expect(tally.compared).toBeGreaterThan(100);
    // Bare specifiers (drizzle-orm itself, node: builtins) are Node's.
    expect(tally.declined).toBeGreaterThan(0);
  });
});
