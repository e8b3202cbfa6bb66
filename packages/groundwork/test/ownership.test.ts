/**
 * Ownership declared on routes: the auth hook enforces `auth: 'own'` with its `owner`, refuses a route whose
 * declaration is half there, and `describeOwnership` builds the access matrix from the declarations, failing
 * on a route that declares nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Fastify, { type FastifyContextConfig } from 'fastify';
import { describe, expect, it } from 'vitest';
import { parseOperatorKeys } from '../src/auth/operator-keys.ts';
import { registerAuth } from '../src/auth/plugin.ts';
import { describeOwnership, setupTestApp } from '../src/testing/index.ts';
import badges from './support/badges/src/app.ts';
import { badgesFixtures } from './support/ownership/badges-fixtures.ts';

const t = setupTestApp(badges, { credentials: true });
describeOwnership(t, badgesFixtures(t));

describe('declaring ownership', () => {
  it.each<[string, FastifyContextConfig]>([
    ['own without an owner', { auth: 'own' }],
    ['an owner on a route that is not own', { auth: 'user', owner: { param: 'id' } }],
  ])('refuses %s when the route is added', async (_case, config) => {
    const app = Fastify();
    registerAuth(app, { operatorKeys: parseOperatorKeys(undefined), open: false });
    expect(() => app.get('/:id', { config }, async () => ({}))).toThrow(
      "GET /:id: a route declares `owner` exactly when its auth is 'own'",
    );
    await app.close();
  });

  it('refuses inQuery on an owner it cannot carry into a statement (a lookup)', async () => {
    const app = Fastify();
    registerAuth(app, { operatorKeys: parseOperatorKeys(undefined), open: false });
    const owner = { param: 'id', inQuery: true, lookup: async () => undefined };
    expect(() => app.get('/:id', { config: { auth: 'own', owner } }, async () => ({}))).toThrow(
      'GET /:id: `inQuery` is for an owner path parameter, without lookup or claim',
    );
    await app.close();
  });
});

describe('describeOwnership', () => {
  it('fails a suite with a route that declares no auth, naming the route', { timeout: 120_000 }, async () => {
    const dir = join(import.meta.dirname, 'support', 'ownership');
    const vitest = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'vitest', 'vitest.mjs');
    const { FORCE_COLOR: _, ...env } = process.env;
    const child = spawn(process.execPath, [vitest, 'run', '--config', join(dir, 'vitest.config.ts')], {
      cwd: dir,
      env: { ...env, NO_COLOR: '1' },
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code, output).toBe(1);
    expect(output).toContain('routes without config.auth');
    expect(output).toContain('GET /undeclared declares no config.auth');
    expect(output).toMatch(/Tests\s+2 failed \| 6 passed/);
  });
});
