import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { vector } from '../../../apps/delight/test/support.ts';
import { resolveAllApps } from '../src/cli/apps.ts';
import { generateKey } from '../src/security/secrets.ts';
import { setupTestApp } from '../src/testing/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = promisify(execFile);

/**
 * Per app, a client as a user writes it: openapi-typescript's types for the app's document and an
 * openapi-fetch client over them, calling the served app (an operator key) to create, read and update a row
 * and read a missing one, whose typed error carries the error shape. Each prints what it got; an unused
 * @ts-expect-error fails the type check, so `any` types cannot pass.
 */
const CALLS: Record<string, string> = {
  counseling: `
const created = await api.POST('/api/v1/users', { body: { username: '\\\\campus\\\\jdoe', password: 'correct horse 1' } });
const user: components['schemas']['UserPublic'] = must(created.data);
const read = await api.GET('/api/v1/users/{id}', { params: { path: { id: user.id } } });
const updated = await api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body: { is_blocked: true } });
const missing = await api.GET('/api/v1/users/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
// @ts-expect-error is_blocked is a boolean
await api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body: { is_blocked: 'yes' } });
report(created, must(read.data).username, must(updated.data).is_blocked, missing);
`,
  delight: `
const created = await api.POST('/api/v1/users', { body: { clerk_user_id: 'user_2abc', email: 'ada@example.com' } });
const user: components['schemas']['UserPublic'] = must(created.data);
const read = await api.GET('/api/v1/users/by-clerk-id/{clerkUserId}', {
  params: { path: { clerkUserId: user.clerk_user_id } },
});
const updated = await api.PUT('/api/v1/users/{id}/preferences', {
  params: { path: { id: user.id } },
  body: { theme: 'dark', custom_hours: { start: '09:00', end: '17:00', timezone: 'Europe/Paris' } },
});
const missing = await api.GET('/api/v1/users/by-clerk-id/{clerkUserId}', { params: { path: { clerkUserId: 'user_none' } } });
// @ts-expect-error timezone is an IANA zone name the document lists
await api.POST('/api/v1/users', { body: { clerk_user_id: 'user_2abd', email: 'bo@example.com', timezone: 'Mars/Olympus' } });
report(created, must(read.data).email, must(updated.data).theme, missing);
`,
  learnr: `
const created = await api.POST('/api/v1/users', { body: { email: 'ada@example.com', password: 'secret horse 123' } });
const user: components['schemas']['UserResponse'] = must(created.data);
const read = await api.GET('/api/v1/users/{id}', { params: { path: { id: user.id } } });
const updated = await api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body: { dark_mode: 'dark' } });
const missing = await api.GET('/api/v1/users/{id}', {
  params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
});
// @ts-expect-error dark_mode is light, dark or auto
await api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body: { dark_mode: 'dim' } });
report(created, must(read.data).email, must(updated.data).dark_mode, missing);
`,
  'mail-agent': `
const created = await api.POST('/api/v1/users', { body: { email: 'ada@example.com' } });
const user: components['schemas']['UserPublic'] = must(created.data);
const read = await api.GET('/api/v1/users/{id}', { params: { path: { id: user.id } } });
const updated = await api.PATCH('/api/v1/users/{id}', {
  params: { path: { id: user.id } },
  body: { telegram_username: '@ada' },
});
const missing = await api.GET('/api/v1/users/{id}', { params: { path: { id: user.id + 1000 } } });
// @ts-expect-error user ids are numbers
await api.GET('/api/v1/users/{id}', { params: { path: { id: 'one' } } });
report(created, must(read.data).email, must(updated.data).telegram_username, missing);
`,
  'rnd-cards': `
const created = await api.POST('/api/v1/users', { body: { email: 'ewa@example.pl', name: 'Ewa', cognitoSub: 'sub-1' } });
const user: components['schemas']['UserPublic'] = must(created.data);
const read = await api.GET('/api/v1/users/{id}', { params: { path: { id: user.id } } });
const batch = must((await api.POST('/api/v1/batches', { body: { userId: user.id, name: 'first', totalProjects: 2 } })).data);
const updated = await api.PATCH('/api/v1/batches/{id}/status', {
  params: { path: { id: batch.id } },
  body: { status: 'processing' },
});
const missing = await api.GET('/api/v1/users/{id}', {
  params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
});
// @ts-expect-error no such status
await api.PATCH('/api/v1/batches/{id}/status', { params: { path: { id: batch.id } }, body: { status: 'lost' } });
report(created, must(read.data).email, must(updated.data).status, missing);
`,
};

/** What every client script starts with: the client and two helpers that keep the calls short. */
const PRELUDE = (name: string) => `import createClient from 'openapi-fetch';
import type { components, paths } from './${name}.ts';

const [baseUrl, token] = process.argv.slice(2) as [string, string];
const api = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('a call that should succeed failed');
  return value;
}

/** The statuses, the values read and updated, and the missing row's typed error. */
function report(
  created: { response: Response },
  read: unknown,
  updated: unknown,
  missing: { response: Response; error?: components['schemas']['ErrorBody'] },
) {
  const code: string | undefined = missing.error?.error.code;
  console.log(JSON.stringify({ created: created.response.status, read, updated, missing: missing.response.status, code }));
}
`;

/** What each app's script must print: the row read and updated as sent, the missing one a typed 404. */
const EXPECTED: Record<string, { read: unknown; updated: unknown }> = {
  counseling: { read: '\\campus\\jdoe', updated: true },
  delight: { read: 'ada@example.com', updated: 'dark' },
  learnr: { read: 'ada@example.com', updated: 'dark' },
  'mail-agent': { read: 'ada@example.com', updated: 'ada' },
  'rnd-cards': { read: 'ewa@example.pl', updated: 'processing' },
};

const TSCONFIG = (name: string) => ({
  compilerOptions: {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    allowImportingTsExtensions: true,
    lib: ['es2022', 'dom'],
    types: ['node'],
  },
  files: [`${name}.client.ts`],
});

const definitions = await resolveAllApps(root);
// Outside the repository (Node strips types only outside node_modules), resolving openapi-fetch through a
// link to the repository's node_modules as a user's project would through its own.
const dir = mkdtempSync(join(tmpdir(), 'groundwork-typed-clients-'));
symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('typed clients from each app’s OpenAPI document', () => {
  it('every app has a client here', () => {
    expect(Object.keys(CALLS).sort()).toEqual(definitions.map((d) => d.name).sort());
  });

  for (const definition of definitions) {
    const { name } = definition;
    const skip = name === 'delight' && !vector.available;
    describe.skipIf(skip)(`${name}${skip ? ` (${vector.reason})` : ''}`, () => {
      const t = setupTestApp(definition, { credentials: true, env: { SECRET_KEYS: generateKey('typed') } });

      it('type-checks strictly and creates, reads, updates and misses a row on the served app', async () => {
        const document = (await t.server.inject({ url: '/docs/json' })).json();
        // Request bodies with a default may be left out; openapi-typescript would otherwise require them.
        writeFileSync(
          join(dir, `${name}.ts`),
          astToString(await openapiTS(document, { defaultNonNullable: false })),
        );
        writeFileSync(join(dir, `${name}.client.ts`), PRELUDE(name) + CALLS[name]);
        writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify(TSCONFIG(name)));
        const checked = await run(process.execPath, [tsc, '-p', join(dir, `tsconfig.${name}.json`)]).catch(
          (error: { stdout: string }) => error,
        );
        expect(checked.stdout).toBe('');

        const baseUrl = await t.server.listen({ port: 0, host: '127.0.0.1' });
        const token = t.adminHeaders.authorization.slice('Bearer '.length);
        const { stdout } = await run(process.execPath, [join(dir, `${name}.client.ts`), baseUrl, token]);
        expect(JSON.parse(stdout)).toEqual({
          created: 201,
          ...EXPECTED[name],
          missing: 404,
          code: 'not_found',
        });
      });
    });
  }
});
