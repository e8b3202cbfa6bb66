/**
 * adapters/node-resolve.ts answers some of Node's module resolution itself. This file pins the Node majors
 * it was written for and checks, in a fresh process, that for every module the server and drizzle-orm's
 * entry points load the adapter's answer is exactly Node's own: its answers for relative imports inside
 * installed packages, and the bare-import answers it keeps and hands out again to other importers. When it fails on a new Node, re-check Node's resolver (format
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
const { bareImportResolver, installedModuleResolver } = await import(process.env.ADAPTER_URL);
const installed = installedModuleResolver();
const bare = bareImportResolver();
const tally = { compared: 0, bareCompared: 0, bareKept: 0, declined: 0, mismatches: [] };
const check = (specifier, context, node, answer) => {
  if (answer.url !== node.url || answer.format !== node.format) {
    tally.mismatches.push({ specifier, parent: context.parentURL, ours: answer, node });
  }
};
registerHooks({
  resolve(specifier, context, nextResolve) {
    const node = nextResolve(specifier, context);
    const answer = installed(specifier, context.parentURL);
    if (answer) {
      tally.compared++;
      check(specifier, context, node, answer);
      return node;
    }
    let askedNode = false;
    const kept = bare(specifier, context, (...args) => {
      askedNode = true;
      return nextResolve(...args);
    });
    if (!kept) tally.declined++;
    else {
      tally.bareCompared++;
      if (!askedNode) tally.bareKept++;
      check(specifier, context, node, kept);
    }
    return node;
  },
});
await import(process.env.SERVER_URL);
await import('drizzle-orm/pg-core');
await import('drizzle-orm/postgres-js');
console.log(JSON.stringify(tally));
`;

describe(`adapters/node-resolve.ts, written for Node ${WRITTEN_FOR.join(' and ')}`, () => {
  it('runs on a Node major it was written for', () => {
    expect(WRITTEN_FOR, `Node ${process.versions.node}: ${RECHECK}`).toContain(major);
    expect(typeof registerHooks, RECHECK).toBe('function');
  });

  it("answers what Node's resolver answers for every import the server and drizzle-orm load", () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '--eval', COMPARE], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: {
        ...process.env,
        ADAPTER_URL: new URL('../../src/adapters/node-resolve.ts', import.meta.url).href,
        SERVER_URL: new URL('../../src/server.ts', import.meta.url).href,
      },
      encoding: 'utf8',
    });
    const tally = JSON.parse(output) as {
      compared: number;
      bareCompared: number;
      bareKept: number;
      declined: number;
      mismatches: unknown[];
    };
    expect(tally.mismatches, RECHECK).toEqual([]);
    // drizzle-orm's entry points load hundreds of modules by relative .js imports: the case the adapter takes.
    expect(tally.compared).toBeGreaterThan(100);
    // Bare imports of a package from many folders: answers kept from another importer were checked too.
    expect(tally.bareCompared).toBeGreaterThan(tally.bareKept);
    expect(tally.bareKept).toBeGreaterThan(10);
    // node: builtins, the library's own relative .ts imports and `#` imports are Node's.
    expect(tally.declined).toBeGreaterThan(0);
  });
});
