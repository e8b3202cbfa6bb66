/**
 * The package as a user installs it: `npm pack`, a scratch project outside this repository that installs the
 * tarball and the peer dependencies (at this lockfile's versions), one app in TypeScript, and the whole
 * workflow under plain Node (no tsx, no workspace links): autogenerate, upgrade, serve with a request
 * answered, and a vitest test on `groundwork-pg/testing`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './support/subprocess.ts';

const run = promisify(execFile);
const PACKAGE_DIR = join(import.meta.dirname, '..');
const ROOT = join(PACKAGE_DIR, '..', '..');
const serverUrl = process.env.TEST_DATABASE_URL;

const lockfile = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};
const locked = (name: string) => {
  const version = lockfile.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return version;
};

const README = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
const FENCE = /^```[a-z]*\n([\s\S]*?)^```$/gm;

/** The README's files: every fenced block whose first line names one (`// src/app.ts`, `# .gitignore`). */
function readmeFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [, block] of README.matchAll(FENCE)) {
    const path = /^(?:\/\/|#) ([\w./-]+)(?::.*)?\n/.exec(block!)?.[1];
    if (path?.includes('.')) files.set(path, block!);
  }
  return files;
}

/** The README's shell commands that run a project tool (`npx tsc`, `npx groundwork …`), comments dropped. */
const readmeCommands = () =>
  [...README.matchAll(FENCE)]
    .flatMap(([, block]) => block!.split('\n'))
    .filter((line) => line.startsWith('npx '))
    // Words as a shell splits them: a quoted one whole, a trailing # comment dropped.
    .map((line) =>
      [...line.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)]
        .map(([, quoted, word]) => quoted ?? word!)
        .slice(1),
    );

let project: string;
let shipped: string[];
let env: NodeJS.ProcessEnv;
let databaseName: string | undefined;

/** Runs the installed CLI the way a user's npm script would: plain Node on the package's bin. */
const groundwork = (...args: string[]) =>
  run(process.execPath, [join(project, 'node_modules', '.bin', 'groundwork'), ...args], {
    cwd: project,
    env,
  });

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'gw-consumer-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', project], { cwd: PACKAGE_DIR });
  const [manifest] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  shipped = manifest!.files.map((file) => file.path);
  const tarball = join(project, manifest!.filename);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'notebook',
      private: true,
      type: 'module',
      dependencies: {
        'groundwork-pg': `file:${tarball}`,
        'drizzle-orm': locked('drizzle-orm'),
        fastify: locked('fastify'),
        zod: locked('zod'),
      },
      devDependencies: {
        vitest: locked('vitest'),
        typescript: locked('typescript'),
        '@types/node': locked('@types/node'),
      },
    }),
  );
  for (const [path, content] of readmeFiles()) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), content);
  }
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project });

  env = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', PORT: '0' };
  for (const key of ['DATABASE_URL', 'TEST_DATABASE_URL', 'DATA_DIR', 'MIGRATE_ON_START', 'NODE_OPTIONS']) {
    delete env[key];
  }
  if (serverUrl) {
    databaseName = `gwt_consumer_${process.pid}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${databaseName}"`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${databaseName}`;
    env.DATABASE_URL = url.href;
  }
}, 300_000);

afterAll(async () => {
  if (databaseName && serverUrl) {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists "${databaseName}" with (force)`);
    await admin.end();
  }
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('an installed groundwork-pg, outside this repository', () => {
  it('ships compiled JavaScript and types, not its sources or tests, and the app template', () => {
    const topLevel = new Set(shipped.map((path) => path.split('/')[0]));
    expect([...topLevel].sort()).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'bin',
      'dist',
      'package.json',
      'template',
    ]);
    expect(shipped).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.d.ts']),
    );
    // The template is an app's TypeScript, copied by `groundwork new`; the library itself ships compiled.
    const library = shipped.filter((path) => !path.startsWith('template/'));
    expect(library.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
    expect(shipped).toEqual(
      expect.arrayContaining(['template/src/app.ts', 'template/test/ownership.test.ts']),
    );
  });

  it('prints its version', async () => {
    const { stdout } = await groundwork('--version');
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(stdout.trim()).toBe(manifest.version);
  });

  it('exports nothing the tarball does not ship', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = Object.values(manifest.exports).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    );
    expect(targets.map((target) => target.slice(2)).filter((path) => !shipped.includes(path))).toEqual([]);
  });

  // The README's files and commands, in its order; each command starts a Node process, as a user's shell would.
  it('follows the README: type-checks, autogenerates, upgrades and serves', {
    timeout: 180_000,
  }, async () => {
    expect([...readmeFiles().keys()].sort()).toEqual([
      '.gitignore',
      'src/app.ts',
      'src/schema.ts',
      'test/notes.test.ts',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    const commands = readmeCommands();
    expect(commands.map((command) => command.slice(0, 2).join(' '))).toEqual([
      'tsc',
      'groundwork db',
      'groundwork db',
      'groundwork serve',
    ]);
    for (const [tool, ...args] of commands) {
      if (tool === 'tsc') {
        const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
        const checked = await run(process.execPath, [tsc], { cwd: project, env }).catch(
          (error: { stdout: string }) => error,
        );
        expect(checked.stdout).toBe('');
      } else if (args[0] !== 'serve') {
        await groundwork(...args);
      }
    }
    const [migration] = readdirSync(join(project, 'migrations'));
    expect(migration).toMatch(/^\d{14}_create_notes$/);
    expect(readFileSync(join(project, 'migrations', migration!, 'up.sql'), 'utf8')).toContain(
      'CREATE TABLE "notes"',
    );
    expect((await groundwork('db', 'current')).stdout).toContain('(head)');

    const server = await startServer({
      command: [process.execPath, join(project, 'node_modules', '.bin', 'groundwork'), 'serve'],
      cwd: project,
      env: env as Record<string, string>,
    });
    try {
      // In development without AUTH_ISSUER a request without a token acts as an operator.
      const registered = await fetch(`${server.url}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subject: 'from-a-real-install' }),
      });
      expect(registered.status).toBe(201);
      const missing = await fetch(`${server.url}/notes/00000000-0000-4000-8000-000000000000`);
      expect(missing.status).toBe(404);
      const document = (await (await fetch(`${server.url}/docs/json`)).json()) as {
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      };
      expect(Object.keys(document.paths['/notes/{id}']!.get!.responses).sort()).toEqual([
        '200',
        '400',
        '401',
        '404',
        '414',
        '503',
      ]);
    } finally {
      server.child.kill('SIGTERM');
    }
  });

  it("runs the README's vitest test on groundwork-pg/testing", { timeout: 120_000 }, async () => {
    const testEnv: NodeJS.ProcessEnv = { ...env, ...(serverUrl ? { TEST_DATABASE_URL: serverUrl } : {}) };
    delete testEnv.DATABASE_URL;
    delete testEnv.FORCE_COLOR;
    testEnv.NO_COLOR = '1';
    const { stdout } = await run(
      process.execPath,
      [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run'],
      { cwd: project, env: testEnv },
    );
    expect(stdout).toMatch(/Tests\s+1 passed/);
  });
});
