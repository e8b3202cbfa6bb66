import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import {
  buildServer,
  type DatabaseHandle,
  DEV_SECRET_KEYS_FILE,
  developmentKeyRing,
  executeRows,
  generateKey,
  openDatabase,
  parseKeyRing,
  SecretError,
  SecretKeyError,
  SettingsError,
  seal,
  startApp,
  upgrade,
} from 'groundwork-pg';
import { serveOnDatabase, setupTestApp, testBackend, testSettings } from 'groundwork-pg/testing';
import { afterAll, describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import type * as schema from '../src/schema.ts';
import { keysOf } from '../src/secrets.ts';
import { createGmailTokenVault } from '../src/users/gmail-tokens.ts';
import { createUsersRepository } from '../src/users/repository.ts';
import { resealGmailTokens } from '../src/users/reseal.ts';

type RawEnv = Record<string, string | undefined>;

const OLD = generateKey('old');
const NEW = generateKey('new');
const t = setupTestApp(app, { env: { SECRET_KEYS: OLD } });

const appDir = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

const dataDirs: string[] = [];
/** A fresh data directory, as the development key's home. */
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mail-agent-data-'));
  dataDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** Users with Gmail tokens sealed under the file's key (OLD), created through the API. */
async function usersWithTokens(count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const created = await t.server.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: `user${i}@example.com` },
    });
    const { id } = created.json() as { id: number };
    const stored = await t.server.inject({
      method: 'PUT',
      url: `/api/v1/users/${id}/gmail-tokens`,
      payload: { access_token: `access-${i}`, refresh_token: `refresh-${i}` },
    });
    expect(stored.statusCode).toBe(204);
    ids.push(id);
  }
  return ids;
}

/** Part `n` of each user's sealed tokens (1: format version, 2: key id), as `access/refresh`. */
const tokenParts = async (n: number) =>
  (
    await executeRows<{ k: string }>(
      t.db,
      sql`select split_part(gmail_oauth_token, '.', ${n}::int) || '/' || split_part(gmail_refresh_token, '.', ${n}::int) as k
            from users where gmail_oauth_token is not null order by id`,
    )
  ).map((r) => r.k);
const keyIds = () => tokenParts(2);

/**
 * A second app instance on the test's database with other settings. The server backend gets its own pool,
 * because closing an app closes its handle; PGlite's test handle belongs to the harness and survives it.
 */
async function withHandle<T>(work: (handle: DatabaseHandle<typeof schema>) => Promise<T>): Promise<T> {
  if (testBackend === 'pglite') return work(t.handle);
  const handle = await openDatabase(t.app.settings, { schema: app.schema });
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

const startWith = (env: RawEnv) =>
  withHandle(async (handle) => {
    await startApp(app, { settings: testSettings(app, env), handle, migrate: false });
  });

describe('startup with SECRET_KEYS', () => {
  it('refuses a malformed key with a message naming the entry, not the key', async () => {
    const short = `k1:${randomBytes(16).toString('base64')}`;
    const failure = startWith({ SECRET_KEYS: `${NEW},${short}` });
    await expect(failure).rejects.toThrow(SecretKeyError);
    await expect(failure).rejects.toThrow(
      /^mail-agent cannot start: SECRET_KEYS entry 2: key must be 32 bytes of base64 \(got 16\)/,
    );
    await expect(failure).rejects.not.toThrow(short.slice(3));
  });

  it('refuses a missing or placeholder SECRET_KEYS in production, a development key file or not', () => {
    const DATA_DIR = dataDir();
    developmentKeyRing(DATA_DIR);
    for (const env of [
      { NODE_ENV: 'production', DATA_DIR },
      { NODE_ENV: 'production', DATA_DIR, SECRET_KEYS: 'changeme' },
    ]) {
      expect(() => testSettings(app, env)).toThrow(SettingsError);
      expect(() => testSettings(app, env)).toThrow(/SECRET_KEYS: is empty or a placeholder/);
    }
  });

  it('starts without SECRET_KEYS in tests when no token is stored, generates no key, and refuses to store one (503)', async () => {
    const DATA_DIR = dataDir();
    await withHandle(async (handle) => {
      const running = await startApp(app, {
        settings: testSettings(app, { NODE_ENV: 'test', DATA_DIR }),
        handle,
        migrate: false,
      });
      const server = await buildServer([running], { logLevel: 'silent', mount: 'root' });
      try {
        const created = await server.inject({
          method: 'POST',
          url: '/api/v1/users',
          payload: { email: 'a@b.co' },
        });
        expect(created.statusCode).toBe(201);
        const stored = await server.inject({
          method: 'PUT',
          url: `/api/v1/users/${created.json().id}/gmail-tokens`,
          payload: { access_token: 'plain', refresh_token: 'plain' },
        });
        expect(stored.statusCode).toBe(503);
        expect(stored.json().error.code).toBe('token_storage_disabled');
        expect(stored.json().error.message).toMatch(/SECRET_KEYS is not set/);
      } finally {
        // Closing the server closes the handle it was given: on the server backend that is our own pool.
        await server.close();
      }
    });
    const [row] = await executeRows<{ gmail_oauth_token: string | null }>(
      t.db,
      sql`select gmail_oauth_token from users`,
    );
    expect(row?.gmail_oauth_token).toBeNull();
    expect(readdirSync(DATA_DIR)).toEqual([]);
  });

  it('refuses to start when tokens are stored and SECRET_KEYS is missing', async () => {
    await usersWithTokens(2);
    await expect(startWith({})).rejects.toThrow(
      'mail-agent cannot start: 2 user(s) have sealed Gmail tokens but SECRET_KEYS is not set',
    );
  });

  it('refuses to start with the wrong key under the right id, or without the key the tokens use', async () => {
    await usersWithTokens(1);
    await expect(startWith({ SECRET_KEYS: generateKey('old') })).rejects.toThrow(
      /SECRET_KEYS key "old" does not open the stored Gmail tokens/,
    );
    await expect(startWith({ SECRET_KEYS: NEW })).rejects.toThrow(
      /1 user\(s\) have Gmail tokens sealed under key id "old", which SECRET_KEYS does not contain/,
    );
    // The right key anywhere in the ring is enough.
    await expect(startWith({ SECRET_KEYS: `${NEW},${OLD}` })).resolves.toBeUndefined();
  });
});

describe('development without SECRET_KEYS', () => {
  /** Starts the app as `groundwork serve` would in development, with its log lines collected. */
  async function serveInDevelopment(DATA_DIR: string, handle: DatabaseHandle<typeof schema>) {
    const running = await startApp(app, {
      settings: testSettings(app, { NODE_ENV: 'development', DATA_DIR }),
      handle,
      migrate: false,
    });
    const logs: string[] = [];
    const server = await buildServer([running], {
      logLevel: 'info',
      mount: 'root',
      logStream: { write: (line) => logs.push(JSON.parse(line).msg) },
    });
    await server.ready();
    return { running, server, notices: () => logs.filter((line) => line.includes('SECRET_KEYS')) };
  }

  it('generates a key once into the data directory (0600), says so, and its tokens open after a restart', async () => {
    const DATA_DIR = dataDir();
    const file = join(DATA_DIR, DEV_SECRET_KEYS_FILE);
    let userId = 0;
    await withHandle(async (handle) => {
      const { server, notices } = await serveInDevelopment(DATA_DIR, handle);
      try {
        expect(notices()).toEqual([
          `mail-agent: SECRET_KEYS is not set, so Gmail tokens are sealed with the development key just generated in ${file} (development only; set SECRET_KEYS to use your own)`,
        ]);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const created = await server.inject({
          method: 'POST',
          url: '/api/v1/users',
          payload: { email: 'a@b.co' },
        });
        userId = created.json().id;
        const stored = await server.inject({
          method: 'PUT',
          url: `/api/v1/users/${userId}/gmail-tokens`,
          payload: { access_token: 'access', refresh_token: 'refresh' },
        });
        expect(stored.statusCode).toBe(204);
      } finally {
        await server.close();
      }
    });
    const key = readFileSync(file, 'utf8');
    const keyId = key.split(':')[0]!;
    expect(keyId).toMatch(/^dev-\d{8}T\d{6}$/);
    expect(await keyIds()).toEqual([`${keyId}/${keyId}`]);

    // A restart finds the key (the verify hook opens the stored tokens with it) and keeps it.
    await withHandle(async (handle) => {
      const { running, server, notices } = await serveInDevelopment(DATA_DIR, handle);
      try {
        expect(notices()).toEqual([
          `mail-agent: SECRET_KEYS is not set, so Gmail tokens are sealed with the development key in ${file} (development only; set SECRET_KEYS to use your own)`,
        ]);
        const vault = createGmailTokenVault({
          users: createUsersRepository(running.handle.db),
          ring: keysOf(running.settings).ring,
        });
        expect(await vault.read({ userId })).toEqual({ accessToken: 'access', refreshToken: 'refresh' });
      } finally {
        await server.close();
      }
    });
    expect(readFileSync(file, 'utf8')).toBe(key);
  });

  it('refuses to start when stored tokens were sealed under another key, naming the key file', async () => {
    await usersWithTokens(1);
    const DATA_DIR = dataDir();
    await expect(startWith({ NODE_ENV: 'development', DATA_DIR })).rejects.toThrow(
      `which SECRET_KEYS does not contain; list that key after the current one and run npm run secrets:reseal -w apps/mail-agent before retiring it (SECRET_KEYS is not set, so this used ${join(DATA_DIR, DEV_SECRET_KEYS_FILE)})`,
    );
  });
});

describe('key rotation', () => {
  it('opens old tokens until re-sealed, seals new ones under the new key, and re-seals in batches', async () => {
    const ids = await usersWithTokens(5);
    const users = createUsersRepository(t.db);
    const rotated = parseKeyRing(`${NEW},${OLD}`);
    const vault = createGmailTokenVault({ users, ring: rotated });
    expect(await vault.read({ userId: ids[0]! })).toEqual({
      accessToken: 'access-0',
      refreshToken: 'refresh-0',
    });
    await vault.store({ userId: ids[4]!, tokens: { accessToken: 'access-4b', refreshToken: 'refresh-4b' } });
    expect(await keyIds()).toEqual(['old/old', 'old/old', 'old/old', 'old/old', 'new/new']);

    const lines: string[] = [];
    const report = await resealGmailTokens({
      db: t.db,
      ring: rotated,
      batchSize: 3,
      log: (l) => lines.push(l),
    });
    expect(report).toMatchObject({ keyId: 'new', resealed: 4, changedMeanwhile: 0, failed: [], batches: 2 });
    expect(lines).toEqual([
      're-sealing Gmail tokens under key "new": 4 user(s) to go, 3 per batch',
      expect.stringMatching(/^batch 1: 3 re-sealed, 0 changed meanwhile, 0 failed .*; 3\/4 done$/),
      expect.stringMatching(/^batch 2: 1 re-sealed, 0 changed meanwhile, 0 failed .*; 4\/4 done$/),
      'done: 4 re-sealed, 0 changed meanwhile, 0 failed',
    ]);
    expect(await keyIds()).toEqual(Array(5).fill('new/new'));

    // The old key can now be retired: everything opens with the new one alone, and the app starts.
    const retired = createGmailTokenVault({ users, ring: parseKeyRing(NEW) });
    for (const [i, id] of ids.entries()) {
      const suffix = i === 4 ? `${i}b` : `${i}`;
      expect(await retired.read({ userId: id })).toEqual({
        accessToken: `access-${suffix}`,
        refreshToken: `refresh-${suffix}`,
      });
    }
    await expect(startWith({ SECRET_KEYS: NEW })).resolves.toBeUndefined();
    const again = await resealGmailTokens({ db: t.db, ring: rotated });
    expect(again).toMatchObject({ resealed: 0, batches: 0 });
  });

  it('resumes after an interruption where the last committed batch ended', async () => {
    await usersWithTokens(5);
    const rotated = parseKeyRing(`${NEW},${OLD}`);
    const interrupted = resealGmailTokens({
      db: t.db,
      ring: rotated,
      batchSize: 2,
      log: (line) => {
        if (line.startsWith('batch 1:')) throw new Error('killed');
      },
    });
    await expect(interrupted).rejects.toThrow('killed');
    expect(await keyIds()).toEqual(['new/new', 'new/new', 'old/old', 'old/old', 'old/old']);
    const lines: string[] = [];
    const resumed = await resealGmailTokens({
      db: t.db,
      ring: rotated,
      batchSize: 2,
      log: (l) => lines.push(l),
    });
    expect(lines[0]).toMatch(/3 user\(s\) to go/);
    expect(resumed.resealed).toBe(3);
    expect(await keyIds()).toEqual(Array(5).fill('new/new'));
  });

  it('reports a token it cannot open by user id and never carries it forward', async () => {
    const [, b] = await usersWithTokens(2);
    // Sealed under a key nobody has any more: well-formed, so the check constraint lets it in.
    const lost = parseKeyRing(generateKey('old'));
    await t.db.execute(sql`update users set gmail_oauth_token = ${seal(lost, 'access-x')} where id = ${b!}`);
    const report = await resealGmailTokens({ db: t.db, ring: parseKeyRing(`${NEW},${OLD}`) });
    expect(report.resealed).toBe(1);
    expect(report.failed).toEqual([
      { id: b, reason: expect.stringMatching(/failed authentication under key id "old"/) },
    ]);
    expect(report.failed[0]!.reason).not.toMatch(/v1\./);
    expect(await keyIds()).toEqual(['new/new', 'old/old']);
  });

  it('never overwrites tokens that changed after they were read', async () => {
    const [id] = await usersWithTokens(1);
    const users = createUsersRepository(t.db);
    const ring = parseKeyRing(`${NEW},${OLD}`);
    const before = (await users.sealedTokens({ id: id! }))!;
    await t.server.inject({
      method: 'PUT',
      url: `/api/v1/users/${id}/gmail-tokens`,
      payload: { access_token: 'fresh', refresh_token: 'fresh-r' },
    });
    const stale = { accessToken: seal(ring, 'access-0'), refreshToken: seal(ring, 'refresh-0') };
    expect(await users.replaceSealedTokens({ id: id!, from: before, to: stale })).toBe(false);
    const vault = createGmailTokenVault({ users, ring });
    expect(await vault.read({ userId: id! })).toEqual({ accessToken: 'fresh', refreshToken: 'fresh-r' });
  });

  it('npm run secrets:reseal re-seals through the foundation settings and prints progress', async () => {
    // The script is a separate process: it needs a database it can open by URL or folder.
    let env: RawEnv;
    let dataDir: string | undefined;
    let check: () => Promise<string[]>;
    if (testBackend === 'postgres') {
      await usersWithTokens(3);
      env = { DATABASE_URL: t.app.settings.databaseUrl };
      check = keyIds;
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'mail-agent-reseal-'));
      const settings = testSettings(app, { DATA_DIR: dataDir });
      const seed = await openDatabase(settings, { schema: app.schema });
      try {
        await upgrade(seed, app.migrationsDir);
        const users = createUsersRepository(seed.db);
        const vault = createGmailTokenVault({ users, ring: parseKeyRing(OLD) });
        for (const i of [1, 2, 3]) {
          const user = await users.create({ email: `u${i}@example.com` });
          await vault.store({ userId: user.id, tokens: { accessToken: `a${i}`, refreshToken: `r${i}` } });
        }
      } finally {
        await seed.close();
      }
      env = { DATABASE_URL: '', DATA_DIR: dataDir };
      check = async () => {
        const reopened = await openDatabase(settings, { schema: app.schema });
        try {
          return (
            await executeRows<{ k: string }>(
              reopened.db,
              sql`select split_part(gmail_oauth_token, '.', 2) || '/' || split_part(gmail_refresh_token, '.', 2) as k
                    from users order by id`,
            )
          ).map((r) => r.k);
        } finally {
          await reopened.close();
        }
      };
    }
    try {
      const { stdout } = await run(process.execPath, ['scripts/reseal.ts', '--batch-size', '2'], {
        cwd: appDir,
        env: { ...process.env, ...env, SECRET_KEYS: `${NEW},${OLD}`, NODE_ENV: 'test' },
      });
      expect(stdout).toMatch(/re-sealing Gmail tokens under key "new": 3 user\(s\) to go, 2 per batch/);
      expect(stdout).toMatch(/batch 1: 2 re-sealed, .*2\/3 done/);
      expect(stdout).toMatch(/batch 2: 1 re-sealed, .*3\/3 done/);
      expect(stdout).not.toContain(NEW.split(':')[1]);
      expect(await check()).toEqual(['new/new', 'new/new', 'new/new']);

      const bad = run(process.execPath, ['scripts/reseal.ts'], {
        cwd: appDir,
        env: { ...process.env, ...env, SECRET_KEYS: 'new:tooshort', NODE_ENV: 'test' },
      });
      await expect(bad).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/re-seal failed: SECRET_KEYS entry 1: key must be 32 bytes/),
      });
    } finally {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('health when PostgreSQL is unreachable', () => {
  it('GET /api/v1/health/db answers 503 with a sanitized error', async () => {
    const { server } = await serveOnDatabase(app, 'postgres://mailagent:hunter2@127.0.0.1:1/mailagent', {
      SECRET_KEYS: OLD,
    });
    try {
      const response = await server.inject({ method: 'GET', url: '/api/v1/health/db' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      const body = response.json();
      expect(body).toEqual({
        status: 'disconnected',
        error: expect.stringMatching(/^database unreachable/),
        message: 'Unable to connect to PostgreSQL',
      });
      expect(response.body).not.toMatch(/hunter2|127\.0\.0\.1|mailagent@/);
    } finally {
      await server.close();
    }
  });
});

describe('sealed tokens bound to their row and column (v2, issue 11)', () => {
  const versions = () => tokenParts(1);

  it('a token copied to another user or to the other column does not open', async () => {
    const [ann, bob] = await usersWithTokens(2);
    expect(await versions()).toEqual(['v2/v2', 'v2/v2']);
    const vault = createGmailTokenVault({ users: createUsersRepository(t.db), ring: parseKeyRing(OLD) });
    await t.db.execute(sql`update users set gmail_oauth_token = (select gmail_oauth_token from users where id = ${ann!})
                            where id = ${bob!}`);
    await expect(vault.read({ userId: bob! })).rejects.toThrow(SecretError);
    await expect(vault.read({ userId: bob! })).rejects.toThrow(/moved from another row or column/);
    await t.db.execute(sql`update users set gmail_refresh_token = gmail_oauth_token where id = ${ann!}`);
    await expect(vault.read({ userId: ann! })).rejects.toThrow(SecretError);
  });

  it('v1 tokens still open, and secrets:reseal upgrades them to v2 under the same key', async () => {
    const [ann, bob] = await usersWithTokens(2);
    const ring = parseKeyRing(OLD);
    await t.db.execute(sql`update users set gmail_oauth_token = ${seal(ring, 'legacy-access')},
                            gmail_refresh_token = ${seal(ring, 'legacy-refresh')} where id = ${bob!}`);
    expect(await versions()).toEqual(['v2/v2', 'v1/v1']);
    const vault = createGmailTokenVault({ users: createUsersRepository(t.db), ring });
    expect(await vault.read({ userId: bob! })).toEqual({
      accessToken: 'legacy-access',
      refreshToken: 'legacy-refresh',
    });
    const report = await resealGmailTokens({ db: t.db, ring });
    expect(report).toMatchObject({ keyId: 'old', resealed: 1, failed: [] });
    expect(await versions()).toEqual(['v2/v2', 'v2/v2']);
    expect(await vault.read({ userId: bob! })).toEqual({
      accessToken: 'legacy-access',
      refreshToken: 'legacy-refresh',
    });
    expect(await vault.read({ userId: ann! })).toEqual({
      accessToken: 'access-0',
      refreshToken: 'refresh-0',
    });
    await expect(startWith({ SECRET_KEYS: OLD })).resolves.toBeUndefined();
  });
});
