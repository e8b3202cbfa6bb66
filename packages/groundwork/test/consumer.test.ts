/**
 * The package as a user installs it: `npm pack`, a scratch project outside this repository that installs the
 * tarball and the peer dependencies (at this lockfile's versions), one app in TypeScript, and the whole
 * workflow under plain Node (no tsx, no workspace links): autogenerate, upgrade, serve with a request
 * answered, and a vitest test on `groundwork-pg/testing`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const SCHEMA = `import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const notes = pgTable('notes', {
  id: uuid('id').primaryKey().defaultRandom(),
  body: text('body').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
`;

const APP = `import { defineApp } from 'groundwork-pg';
import { z } from 'zod';
import * as schema from './schema.ts';

const note = z.object({ id: z.string(), body: z.string() });

export default defineApp({
  name: 'notebook',
  title: 'Notebook',
  dir: new URL('..', import.meta.url).pathname,
  schema,
  routes: async (app, { db }) => {
    app.post('/notes', { schema: { body: z.object({ body: z.string().min(1) }), response: { 201: note } } },
      async (request, reply) => {
        const [row] = await db.insert(schema.notes).values(request.body).returning();
        return reply.status(201).send(row);
      });
    app.get('/notes', { schema: { response: { 200: z.array(note) } } }, () => db.select().from(schema.notes));
  },
});
`;

const TEST = `import { setupTestApp } from 'groundwork-pg/testing';
import { expect, it } from 'vitest';
import app from '../src/app.ts';

const t = setupTestApp(app);

it('stores a note and lists it', async () => {
  const created = await t.server.inject({ method: 'POST', url: '/notes', payload: { body: 'hello' } });
  expect(created.statusCode).toBe(201);
  const listed = await t.server.inject({ method: 'GET', url: '/notes' });
  expect(listed.json().map((n: { body: string }) => n.body)).toEqual(['hello']);
});

it('starts every test from an empty table', async () => {
  const listed = await t.server.inject({ method: 'GET', url: '/notes' });
  expect(listed.json()).toEqual([]);
});
`;

const VITEST_CONFIG = `import { testDefaults } from 'groundwork-pg/testing/preset';
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: testDefaults });
`;

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
      devDependencies: { vitest: locked('vitest') },
    }),
  );
  mkdirSync(join(project, 'src'));
  mkdirSync(join(project, 'test'));
  writeFileSync(join(project, 'src', 'schema.ts'), SCHEMA);
  writeFileSync(join(project, 'src', 'app.ts'), APP);
  writeFileSync(join(project, 'test', 'app.test.ts'), TEST);
  writeFileSync(join(project, 'vitest.config.ts'), VITEST_CONFIG);
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

  // Each step starts a Node process, as a user's shell would.
  it('autogenerates the first migration, upgrades, and serves a request', { timeout: 120_000 }, async () => {
    await groundwork('db', 'revision', '-m', 'create notes', '--autogenerate');
    const [migration] = readdirSync(join(project, 'migrations'));
    expect(migration).toMatch(/^\d{14}_create_notes$/);
    expect(readFileSync(join(project, 'migrations', migration!, 'up.sql'), 'utf8')).toContain(
      'CREATE TABLE "notes"',
    );
    await groundwork('db', 'upgrade');
    expect((await groundwork('db', 'current')).stdout).toContain('(head)');

    const server = await startServer({
      command: [process.execPath, join(project, 'node_modules', '.bin', 'groundwork'), 'serve'],
      cwd: project,
      env: env as Record<string, string>,
    });
    try {
      const created = await fetch(`${server.url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ body: 'from a real install' }),
      });
      expect(created.status).toBe(201);
      const listed = (await (await fetch(`${server.url}/notes`)).json()) as { body: string }[];
      expect(listed.map((n) => n.body)).toEqual(['from a real install']);
    } finally {
      server.child.kill('SIGTERM');
    }
  });

  it('runs a vitest test on groundwork-pg/testing', { timeout: 120_000 }, async () => {
    const testEnv: NodeJS.ProcessEnv = { ...env, ...(serverUrl ? { TEST_DATABASE_URL: serverUrl } : {}) };
    delete testEnv.DATABASE_URL;
    delete testEnv.FORCE_COLOR;
    testEnv.NO_COLOR = '1';
    const { stdout } = await run(
      process.execPath,
      [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run'],
      { cwd: project, env: testEnv },
    );
    expect(stdout).toMatch(/Tests\s+2 passed/);
  });
});
