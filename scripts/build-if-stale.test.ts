import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';

/**
 * The build check on a scratch project shaped like this repository (a package with src/, a tsconfig that
 * extends the root's), built by the real compiler behind a stand-in `typescript/bin/tsc` that records each
 * start. The tests run in order: each one starts from the state the previous one left.
 */
// Each check that compiles starts the real compiler, which takes seconds on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
const realTsc = createRequire(import.meta.url).resolve('typescript/lib/tsc.js');
let root: string;
let pkg: string;
let log: string;

const write = (path: string, text: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd: root });

/** Runs the check; answers whether it started the compiler. */
function check(): { compiled: boolean; status: number | null } {
  const before = readFileSync(log, 'utf8').length;
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.ts')], {
    encoding: 'utf8',
    // The compiler's 9 MB loads from V8's cache after the first start.
    env: { ...process.env, NODE_COMPILE_CACHE: join(root, 'compile-cache') },
  });
  return { compiled: readFileSync(log, 'utf8').length > before, status: run.status };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gw-build-check-'));
  pkg = join(root, 'packages', 'groundwork');
  log = join(root, 'tsc-starts.log');
  writeFileSync(log, '');
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(import.meta.dirname, 'build-if-stale.ts'), join(root, 'scripts', 'build-if-stale.ts'));
  write(join(root, 'package.json'), '{ "type": "module" }\n');
  write(join(root, 'package-lock.json'), '{}\n');
  write(
    join(root, 'tsconfig.base.json'),
    `${JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        types: [],
        noEmit: true,
      },
    })}\n`,
  );
  write(
    join(pkg, 'tsconfig.build.json'),
    `${JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        noEmit: false,
        rootDir: 'src',
        outDir: 'dist',
        declaration: true,
        sourceMap: true,
        incremental: true,
        tsBuildInfoFile: 'dist/.tsbuildinfo',
        rewriteRelativeImportExtensions: true,
      },
      include: ['src'],
    })}\n`,
  );
  write(join(pkg, 'package.json'), '{ "type": "module" }\n');
  write(join(pkg, 'src', 'a.ts'), 'export const a: number = 1;\n');
  write(join(pkg, 'src', 'nested', 'b.ts'), "import { a } from '../a.ts';\nexport const b = a + 1;\n");
  // The stand-in compiler: records its start, then runs the real one.
  write(join(root, 'node_modules', 'typescript', 'package.json'), '{ "name": "typescript" }\n');
  write(
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    `require('node:fs').appendFileSync(${JSON.stringify(log)}, 'tsc\\n');\nrequire(${JSON.stringify(realTsc)});\n`,
  );
  write(join(root, '.gitignore'), 'node_modules/\ndist/\ntsc-starts.log\ncompile-cache/\n');
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const built = (file: string) => readFileSync(join(pkg, 'dist', file), 'utf8');

test('a project never built is built, and the next check starts no compiler', () => {
  expect(check()).toEqual({ compiled: true, status: 0 });
  expect(built('nested/b.js')).toContain('from "../a.js"');
  expect(check()).toEqual({ compiled: false, status: 0 });
});

test('an edited source and a new one rebuild', () => {
  write(join(pkg, 'src', 'a.ts'), 'export const a: number = 2;\n');
  write(join(pkg, 'src', 'c.ts'), 'export const c = 3;\n');
  expect(check().compiled).toBe(true);
  expect(built('a.js')).toContain('a = 2');
  expect(built('c.d.ts')).toContain('c');
});

test('a deleted output and a changed tsconfig each rebuild', () => {
  rmSync(join(pkg, 'dist', 'nested', 'b.js.map'));
  expect(check().compiled).toBe(true);
  expect(built('nested/b.js.map')).toContain('"version"');
  // The tsconfig the project extends, not its own.
  const base = join(root, 'tsconfig.base.json');
  writeFileSync(
    base,
    readFileSync(base, 'utf8').replace('"strict":true', '"strict":true,"removeComments":true'),
  );
  expect(check().compiled).toBe(true);
  expect(check().compiled).toBe(false);
});

test('switching git branches rebuilds from the checked-out sources', () => {
  git('add', '.');
  git('commit', '-q', '-m', 'second');
  git('checkout', '-q', '-b', 'other');
  write(join(pkg, 'src', 'a.ts'), 'export const a: number = 40;\n');
  git('commit', '-q', '-am', 'other');
  expect(check().compiled).toBe(true);
  expect(built('a.js')).toContain('a = 40');
  git('checkout', '-q', 'main');
  expect(check().compiled).toBe(true);
  expect(built('a.js')).toContain('a = 2');
});

test('a build made by someone else since is checked by the compiler once', () => {
  execFileSync(process.execPath, [realTsc, '-b', '--force', join(pkg, 'tsconfig.build.json')]);
  expect(check().compiled).toBe(true);
  expect(check().compiled).toBe(false);
});

test('a failing build exits non-zero and is tried again on the next check', () => {
  write(join(pkg, 'src', 'a.ts'), "export const a: number = 'not a number';\n");
  expect(check()).toEqual({ compiled: true, status: 1 });
  expect(check()).toEqual({ compiled: true, status: 1 });
});
