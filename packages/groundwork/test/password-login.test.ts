import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as argon2 from '@node-rs/argon2';
import { and, eq, sql } from 'drizzle-orm';
import { boolean, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMailer } from '../src/adapters/mail.ts';
import { parseOperatorKeys } from '../src/auth/operator-keys.ts';
import { passwordLoginRoutes, registrationRateLimit } from '../src/auth/password-login.ts';
import { authPasswordResetsTable, createResetStore } from '../src/auth/password-recovery.ts';
import { registerAuth } from '../src/auth/plugin.ts';
import { sessionTokenDigest } from '../src/auth/session-tokens.ts';
import { authSessionsTable, createSessionStore } from '../src/auth/sessions.ts';
import { type Bindable, hotQuery, hotUpdate } from '../src/database/prepared.ts';
import { executeRows } from '../src/database/rows.ts';
import { errorHandler, notFound } from '../src/http/errors.ts';
import { IdParams } from '../src/http/params.ts';
import { hashPassword, needsRehash, verifyPassword } from '../src/security/passwords.ts';
import { createTestDatabase, sentMail, type TestDatabase } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull().unique(),
  email: text('email'),
  hashedPassword: text('hashed_password').notNull(),
  isBlocked: boolean('is_blocked').notNull().default(false),
});
const authSessions = authSessionsTable(accounts.id);
const authPasswordResets = authPasswordResetsTable(accounts.id);
const OPERATOR_KEY = 'k8Jq2vN5xR7mW3pL9tY6bH4cF1gD0sAe';
const IDLE_S = 1800;

let database: TestDatabase<any>;
let server: FastifyInstance;
const logLines: Record<string, unknown>[] = [];
const mailDir = mkdtempSync(join(tmpdir(), 'gw-reset-mail-'));

/** Accounts and sessions on a real database (PGlite, or the test server), created by hand for this test. */
beforeAll(async () => {
  database = await createTestDatabase(notes, { migrate: false });
  const session = await database.handle.session();
  await session.query(`create table accounts (id uuid primary key default gen_random_uuid(),
    username text not null unique, email text, hashed_password text not null,
    is_blocked boolean not null default false)`);
  await session.query(`create table auth_sessions (token_digest text primary key,
    user_id uuid not null references accounts(id) on delete cascade,
    created_at timestamptz not null default now(), last_seen_at timestamptz not null default now(),
    expires_at timestamptz not null)`);
  await session.query(`create table auth_password_resets (token_digest text primary key,
    user_id uuid not null references accounts(id) on delete cascade, expires_at timestamptz not null)`);
  await session.release();
  const db = database.handle.db;
  const password = await hashPassword('correct horse 1');
  // An older, cheaper hash: a successful login must replace it.
  const weak = await argon2.hash('correct horse 1', { memoryCost: 8192, timeCost: 1, parallelism: 1 });
  await db.insert(accounts).values([
    { username: 'alice', hashedPassword: password },
    { username: 'bob', hashedPassword: password },
    { username: 'carol', hashedPassword: password },
    { username: 'dave', hashedPassword: password, email: 'dave@example.test' },
    { username: 'blocked', hashedPassword: password, isBlocked: true },
    { username: 'legacy', hashedPassword: weak },
  ]);
  const sessions = createSessionStore(db, authSessions, { ttlS: 3600, idleS: IDLE_S });
  server = Fastify({
    logger: { level: 'info', stream: { write: (line: string) => logLines.push(JSON.parse(line)) } },
  }).withTypeProvider<ZodTypeProvider>();
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.setErrorHandler(errorHandler);
  registerAuth(server, { operatorKeys: parseOperatorKeys(OPERATOR_KEY), sessions, open: false });
  const accountOf = (row: typeof accounts.$inferSelect | undefined) =>
    row && {
      id: row.id,
      hashedPassword: row.hashedPassword,
      blocked: row.isBlocked,
      email: row.email ?? undefined,
    };
  await server.register(passwordLoginRoutes, {
    loginField: 'username',
    sessions,
    findAccount: async (username: string) =>
      accountOf((await db.select().from(accounts).where(eq(accounts.username, username)))[0]),
    findAccountById: async (id: string) =>
      accountOf((await db.select().from(accounts).where(eq(accounts.id, id)))[0]),
    updatePasswordHash: async (id: string, hash: string) => {
      await db.update(accounts).set({ hashedPassword: hash }).where(eq(accounts.id, id));
    },
    recovery: {
      resets: createResetStore(db, authPasswordResets, 900),
      mailer: createMailer({ dir: mailDir }, 'Notes <no-reply@example.test>'),
      appTitle: 'Notes',
    },
  });
  server.get('/me', async (request) => request.identity);
  // `inQuery` routes: their statement checks the session (owns); the forgetful ones run none that does.
  const byId = hotQuery(db, 'test_account_by_id', (executor, { id }: Bindable<{ id: string }>, owns) =>
    executor
      .select({ id: accounts.id, email: accounts.email })
      .from(accounts)
      .where(and(eq(accounts.id, id), owns(accounts.id))),
  );
  const update = hotUpdate(
    db,
    'test_account_update',
    (executor, { id }: Bindable<{ id: string }>, changes, owns) =>
      executor
        .update(accounts)
        .set(changes)
        .where(and(eq(accounts.id, id), owns(accounts.id)))
        .returning({ id: accounts.id, email: accounts.email }),
  );
  const inQuery = { auth: 'own', owner: { param: 'id', inQuery: true } } as const;
  const patch = { params: IdParams, body: z.object({ email: z.string() }) };
  const app = server.withTypeProvider<ZodTypeProvider>();
  app.get('/accounts/:id', { config: inQuery, schema: { params: IdParams } }, async (request) => {
    const [row] = await byId({ id: request.params.id, caller: request.caller });
    if (!row) throw notFound('User');
    return row;
  });
  app.patch('/accounts/:id', { config: inQuery, schema: patch }, async (request) => {
    const [row] = await update({ id: request.params.id, caller: request.caller }, request.body);
    if (!row) throw notFound('User');
    return row;
  });
  // The same read behind the ownership check that reads the session first.
  const checked = { auth: 'own', owner: { param: 'id' } } as const;
  app.get('/checked/:id', { config: checked, schema: { params: IdParams } }, async (request) => {
    const [row] = await byId({ id: request.params.id });
    if (!row) throw notFound('User');
    return row;
  });
  app.get('/forgetful/:id', { config: inQuery, schema: { params: IdParams } }, async (request) => {
    const [row] = await byId({ id: request.params.id });
    if (!row) throw notFound('User');
    return row;
  });
  app.patch('/forgetful/:id', { config: inQuery, schema: patch }, async (request) => {
    const [row] = await update({ id: request.params.id }, request.body);
    return row;
  });
  server.post(
    '/register',
    { config: { auth: 'public' }, preHandler: registrationRateLimit({ perIpPerMinute: 3 }) },
    async (_request, reply) => reply.status(201).send(),
  );
  await server.ready();
}, 60_000);

afterAll(async () => {
  await server?.close();
  await database?.dispose();
  rmSync(mailDir, { recursive: true, force: true });
});

afterEach(async () => {
  await database.handle.db.delete(authSessions);
  await database.handle.db.delete(authPasswordResets);
});

const login = (username: string, password: string, ip = '10.0.0.1') =>
  server.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress: ip });
const tokenOf = async (username: string, ip: string) => {
  const response = await login(username, 'correct horse 1', ip);
  expect(response.statusCode).toBe(200);
  return response.json().token as string;
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const me = (token: string) => server.inject({ method: 'GET', url: '/me', headers: bearer(token) });
const eventsNamed = (event: string) => logLines.filter((line) => line.event === event);
const idOf = async (username: string) =>
  (await database.handle.db.select().from(accounts).where(eq(accounts.username, username)))[0]!.id;
/** Transactions committed in the test database: one per statement outside a transaction. */
const commits = async () => {
  await executeRows(database.handle.db, sql`select pg_stat_clear_snapshot()`);
  const [row] = await executeRows<{ commits: string }>(
    database.handle.db,
    sql`select xact_commit::text as commits from pg_stat_database where datname = current_database()`,
  );
  return Number(row!.commits);
};
/** Transactions `run` commits: one per statement outside a transaction (and the same two `commits` adds). */
const commitsOf = async (run: () => Promise<void>) => {
  // Counts reach pg_stat_database when a backend goes idle a second after it last reported.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_200));
  await settle();
  const before = await commits();
  await run();
  await settle();
  await commits();
  await settle();
  return (await commits()) - before;
};

describe('password sessions', () => {
  it('logs in with a 256-bit token that expires, and the token authenticates later requests', async () => {
    const response = await login('alice', 'correct horse 1');
    expect(response.statusCode).toBe(200);
    const { token, expires_at } = response.json();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect((await me(token)).json()).toMatchObject({ kind: 'user', via: 'session' });
    const [stored] = await database.handle.db.select().from(authSessions);
    expect(stored!.tokenDigest).not.toBe(token);
  });

  it('answers a wrong password and an unknown user alike, after the same argon2 work', async () => {
    const wrong = await login('alice', 'wrong password 1', '10.0.0.2');
    const unknown = await login('nobody', 'wrong password 1', '10.0.0.2');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error.message).toBe(wrong.json().error.message);
    const time = async (username: string) => {
      const started = performance.now();
      const response = await login(username, 'wrong password 1', `10.1.0.${Math.floor(Math.random() * 200)}`);
      // A 429 would answer fast and prove nothing.
      expect(response.statusCode).toBe(401);
      return performance.now() - started;
    };
    // An unknown login must cost one argon2id verification, as a wrong password does. Each login is timed
    // against one bare verification right before it, so a busy machine slows both sides. With the dummy hash the
    // ratio is above 1; without it the request and its query alone are a small fraction of a verification.
    const hash = await hashPassword('correct horse 1');
    const ratios: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await verifyPassword(hash, 'wrong password 1');
      const verification = performance.now() - started;
      ratios.push((await time('nobody')) / verification);
    }
    expect(ratios.sort((a, b) => a - b)[2]).toBeGreaterThan(0.6);
  });

  it('refuses a blocked account with 403 after a correct password, 401 after a wrong one', async () => {
    expect((await login('blocked', 'correct horse 1', '10.0.0.3')).statusCode).toBe(403);
    expect((await login('blocked', 'nope nope 1', '10.0.0.3')).statusCode).toBe(401);
  });

  it('refuses a password longer than the maximum at login, naming the field', async () => {
    const response = await login('alice', 'x'.repeat(129), '10.0.0.9');
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields).toEqual([
      { field: 'password', message: 'must be at most 128 characters' },
    ]);
  });

  it('revokes the token on logout, and an expired session no longer authenticates', async () => {
    const token = await tokenOf('alice', '10.0.0.4');
    const logout = await server.inject({ method: 'POST', url: '/auth/logout', headers: bearer(token) });
    expect(logout.statusCode).toBe(204);
    expect((await me(token)).statusCode).toBe(401);

    const second = await tokenOf('alice', '10.0.0.4');
    await database.handle.db.update(authSessions).set({ expiresAt: new Date(Date.now() - 1000) });
    expect((await me(second)).statusCode).toBe(401);
  });

  it('refuses a session idle longer than the idle timeout, and moves last_seen_at on at most once a minute', async () => {
    const token = await tokenOf('alice', '10.0.0.5');
    const lastSeen = async () => (await database.handle.db.select().from(authSessions))[0]!.lastSeenAt;
    const opened = await lastSeen();
    expect((await me(token)).statusCode).toBe(200);
    expect(await lastSeen()).toEqual(opened);
    // Used two minutes ago: the next request moves last_seen_at to now.
    await database.handle.db.update(authSessions).set({ lastSeenAt: new Date(Date.now() - 120_000) });
    expect((await me(token)).statusCode).toBe(200);
    expect(Date.now() - (await lastSeen()).getTime()).toBeLessThan(10_000);
    // Unused for longer than the idle timeout: refused, though its absolute lifetime has not run out.
    await database.handle.db
      .update(authSessions)
      .set({ lastSeenAt: new Date(Date.now() - (IDLE_S + 1) * 1000) });
    expect((await me(token)).statusCode).toBe(401);
  });

  it('refuses unknown, expired and idle tokens without writing: the rows stay as they were', async () => {
    const expired = await tokenOf('alice', '10.0.0.6');
    const idle = await tokenOf('bob', '10.0.0.6');
    const db = database.handle.db;
    const userIdOf = async (username: string) =>
      (await db.select().from(accounts).where(eq(accounts.username, username)))[0]!.id;
    await db
      .update(authSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(authSessions.userId, await userIdOf('alice')));
    await db
      .update(authSessions)
      .set({ lastSeenAt: new Date(Date.now() - (IDLE_S + 60) * 1000) })
      .where(eq(authSessions.userId, await userIdOf('bob')));
    const before = await db.select().from(authSessions).orderBy(authSessions.tokenDigest);
    for (const token of [expired, idle, 'a'.repeat(43), 'b'.repeat(43)]) {
      expect((await me(token)).statusCode).toBe(401);
    }
    expect(await db.select().from(authSessions).orderBy(authSessions.tokenDigest)).toEqual(before);
  });

  it('1,000 random tokens write nothing: the sessions table counts no update or delete for them', async () => {
    const stats = async () => {
      const [row] = await executeRows<{ ins: string; upd: string; del: string }>(
        database.handle.db,
        sql`select n_tup_ins::text as ins, n_tup_upd::text as upd, n_tup_del::text as del
              from pg_stat_user_tables where relname = 'auth_sessions'`,
      );
      return { ins: Number(row!.ins), upd: Number(row!.upd), del: Number(row!.del) };
    };
    // A server's backends report their counts within about a second of going idle: wait until they are still.
    const settled = async () => {
      let last = await stats();
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        await executeRows(database.handle.db, sql`select pg_stat_clear_snapshot()`);
        const now = await stats();
        if (JSON.stringify(now) === JSON.stringify(last)) return now;
        last = now;
      }
    };
    const before = await settled();
    const commitsBefore = await commits();
    for (let i = 0; i < 1000; i++) {
      expect((await me(randomBytes(32).toString('base64url'))).statusCode).toBe(401);
    }
    // One statement (one read) per refused token, where a read and a delete would make about 2,000.
    let commitsAfter = await commits();
    for (let wait = 0; wait < 50 && commitsAfter - commitsBefore < 1000; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      commitsAfter = await commits();
    }
    expect(commitsAfter - commitsBefore).toBeGreaterThanOrEqual(1000);
    expect(commitsAfter - commitsBefore).toBeLessThan(1200);
    // A control the counters must show: one login (one insert) and its logout (one delete).
    const token = await tokenOf('alice', '10.0.0.10');
    await server.inject({ method: 'POST', url: '/auth/logout', headers: bearer(token) });
    expect(await settled()).toEqual({ ins: before.ins + 1, upd: before.upd, del: before.del + 1 });
  }, 60_000);

  it('cleans expired sessions when someone logs in', async () => {
    await tokenOf('alice', '10.0.0.7');
    await database.handle.db.update(authSessions).set({ expiresAt: new Date(Date.now() - 1000) });
    await tokenOf('bob', '10.0.0.7');
    const rows = await database.handle.db.select().from(authSessions);
    expect(rows).toHaveLength(1);
  });

  it('upgrades a hash made with older argon2 parameters on login', async () => {
    expect((await login('legacy', 'correct horse 1', '10.0.0.8')).statusCode).toBe(200);
    const [row] = await database.handle.db.select().from(accounts).where(eq(accounts.username, 'legacy'));
    expect(needsRehash(row!.hashedPassword)).toBe(false);
    expect((await login('legacy', 'correct horse 1', '10.0.0.8')).statusCode).toBe(200);
  });
});

describe("inQuery routes: the session checked in the route's own statement", () => {
  const read = (path: string, token: string) =>
    server.inject({ method: 'GET', url: path, headers: bearer(token) });
  const write = (path: string, token: string, email = 'new@example.test') =>
    server.inject({ method: 'PATCH', url: path, headers: bearer(token), payload: { email } });
  const emailOf = async (username: string) =>
    (await database.handle.db.select().from(accounts).where(eq(accounts.username, username)))[0]!.email;

  it('reads and updates the own row in one statement per request, as the owner', async () => {
    const token = await tokenOf('carol', '10.2.0.1');
    const carol = await idOf('carol');
    expect((await read(`/accounts/${carol}`, token)).json()).toMatchObject({ id: carol });
    const twenty = (path: string) => async () => {
      for (let i = 0; i < 20; i++) expect((await read(path, token)).statusCode).toBe(200);
    };
    // The ownership check that reads the session first costs a second statement per request: 20 more on
    // PGlite; a server's backends may report a few of either window's late (they flush at most once a second).
    const inQuery = await commitsOf(twenty(`/accounts/${carol}`));
    expect((await commitsOf(twenty(`/checked/${carol}`))) - inQuery).toBeGreaterThanOrEqual(16);
    const updated = await write(`/accounts/${carol}`, token, 'carol@example.test');
    expect(updated.json()).toEqual({ id: carol, email: 'carol@example.test' });
    expect(await emailOf('carol')).toBe('carol@example.test');
  });

  it('answers 401 at once after logout, expiry and idleness, and a PATCH with a dead session changes nothing', async () => {
    const alice = await idOf('alice');
    const email = await emailOf('alice');
    const loggedOut = await tokenOf('alice', '10.2.0.2');
    expect((await read(`/accounts/${alice}`, loggedOut)).statusCode).toBe(200);
    await server.inject({ method: 'POST', url: '/auth/logout', headers: bearer(loggedOut) });
    const expired = await tokenOf('alice', '10.2.0.2');
    expect((await read(`/accounts/${alice}`, expired)).statusCode).toBe(200);
    await database.handle.db
      .update(authSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(authSessions.tokenDigest, sessionTokenDigest(expired)));
    const idle = await tokenOf('alice', '10.2.0.2');
    expect((await read(`/accounts/${alice}`, idle)).statusCode).toBe(200);
    await database.handle.db
      .update(authSessions)
      .set({ lastSeenAt: new Date(Date.now() - (IDLE_S + 1) * 1000) })
      .where(eq(authSessions.tokenDigest, sessionTokenDigest(idle)));
    for (const token of [loggedOut, expired, idle, 'c'.repeat(43)]) {
      for (const response of [
        await read(`/accounts/${alice}`, token),
        await write(`/accounts/${alice}`, token),
      ]) {
        expect(response.statusCode).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
        expect(response.json().error.code).toBe('unauthorized');
      }
    }
    expect(await emailOf('alice')).toBe(email);
  });

  it("answers 404 for another user's row and a missing one, and changes neither", async () => {
    const token = await tokenOf('alice', '10.2.0.3');
    const bob = await idOf('bob');
    const email = await emailOf('bob');
    expect((await read(`/accounts/${bob}`, token)).json().error.code).toBe('not_found');
    expect((await write(`/accounts/${bob}`, token)).statusCode).toBe(404);
    expect((await read(`/accounts/${crypto.randomUUID()}`, token)).statusCode).toBe(404);
    expect(await emailOf('bob')).toBe(email);
    // An operator key reads any row, with no session to check.
    const operator = await server.inject({ url: `/accounts/${bob}`, headers: bearer(OPERATOR_KEY) });
    expect(operator.json()).toMatchObject({ id: bob });
  });

  it('moves last_seen_at on without a read, at most once a minute', async () => {
    const token = await tokenOf('dave', '10.2.0.4');
    const dave = await idOf('dave');
    const session = eq(authSessions.tokenDigest, sessionTokenDigest(token));
    const lastSeen = async () =>
      (await database.handle.db.select().from(authSessions).where(session))[0]!.lastSeenAt.getTime();
    await database.handle.db
      .update(authSessions)
      .set({ lastSeenAt: new Date(Date.now() - 120_000) })
      .where(session);
    expect((await read(`/accounts/${dave}`, token)).statusCode).toBe(200);
    const moved = await lastSeen();
    expect(Date.now() - moved).toBeLessThan(10_000);
    expect((await read(`/accounts/${dave}`, token)).statusCode).toBe(200);
    expect(await lastSeen()).toBe(moved);
  });

  it('fail-safe: a handler that runs no guarded statement is checked before its response leaves', async () => {
    const token = await tokenOf('alice', '10.2.0.5');
    const [alice, bob] = [await idOf('alice'), await idOf('bob')];
    expect((await read(`/forgetful/${alice}`, token)).json()).toMatchObject({ id: alice });
    expect((await read(`/forgetful/${bob}`, token)).statusCode).toBe(404);
    expect((await read(`/forgetful/${alice}`, 'd'.repeat(43))).statusCode).toBe(401);
    // A write route that promised to carry the check and did not: a 500, never a success.
    const forgot = await write(`/forgetful/${alice}`, token);
    expect(forgot.statusCode).toBe(500);
    expect(forgot.json().error.code).toBe('internal_error');
  });
});

describe('login throttling', () => {
  it("limits failures per account and address: a stranger's failures never keep the right password out", async () => {
    const attacker = '127.0.0.2';
    for (let attempt = 0; attempt < 10; attempt++) {
      expect((await login('carol', `guess guess ${attempt}`, attacker)).statusCode).toBe(401);
    }
    // The owner, from another address, gets in.
    expect((await login('carol', 'correct horse 1', '127.0.0.3')).statusCode).toBe(200);
    // The attacker's address waits, even with the right password.
    const refused = await login('carol', 'correct horse 1', attacker);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    expect(refused.json().error.code).toBe('rate_limited');
    // Other accounts from that address still work (the per-address limit is not reached).
    expect((await login('bob', 'correct horse 1', attacker)).statusCode).toBe(200);
    expect(eventsNamed('auth.login_locked').at(-1)).toMatchObject({
      account: 'carol',
      clientAddress: attacker,
    });
  });

  it('a success resets the failures of that account from that address', async () => {
    const address = '10.5.0.1';
    for (let attempt = 0; attempt < 9; attempt++) await login('alice', 'wrong wrong 1', address);
    expect((await login('alice', 'correct horse 1', address)).statusCode).toBe(200);
    for (let attempt = 0; attempt < 9; attempt++) {
      expect((await login('alice', 'wrong wrong 1', address)).statusCode).toBe(401);
    }
  });

  it('limits attempts per address across accounts', async () => {
    const statuses = [];
    for (let attempt = 0; attempt < 21; attempt++) {
      statuses.push((await login(`user${attempt}`, 'guess guess 1', '10.3.0.1')).statusCode);
    }
    expect(statuses.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect(eventsNamed('auth.login_throttled').at(-1)).toMatchObject({
      limit: 'address',
      clientAddress: '10.3.0.1',
    });
  });

  it('logs a failed login with the account as given, the address and the reason, never the password', async () => {
    await login('nobody-here', 'secret guess 77', '10.6.0.1');
    const line = eventsNamed('auth.login_failed').find((entry) => entry.account === 'nobody-here');
    expect(line).toMatchObject({ clientAddress: '10.6.0.1', reason: 'unknown_account', level: 40 });
    expect(JSON.stringify(logLines)).not.toContain('secret guess 77');
  });
});

describe('my sessions and password change', () => {
  const sessionsOf = (token: string) =>
    server.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(token) });

  it('lists my sessions, marks the current one, and revokes one of them', async () => {
    const first = await tokenOf('bob', '10.7.0.1');
    const second = await tokenOf('bob', '10.7.0.1');
    await tokenOf('alice', '10.7.0.1');
    const listed = (await sessionsOf(first)).json();
    expect(listed).toHaveLength(2);
    expect(listed.filter((session: { current: boolean }) => session.current)).toHaveLength(1);
    const other = listed.find((session: { current: boolean }) => !session.current);
    const revoked = await server.inject({
      method: 'DELETE',
      url: `/auth/sessions/${other.id}`,
      headers: bearer(first),
    });
    expect(revoked.statusCode).toBe(204);
    expect((await me(second)).statusCode).toBe(401);
    expect((await me(first)).statusCode).toBe(200);
    // Someone else's session is not found.
    const [alice] = await database.handle.db.select().from(accounts).where(eq(accounts.username, 'alice'));
    const [alices] = await database.handle.db
      .select()
      .from(authSessions)
      .where(eq(authSessions.userId, alice!.id));
    const foreign = await server.inject({
      method: 'DELETE',
      url: `/auth/sessions/${alices!.tokenDigest}`,
      headers: bearer(first),
    });
    expect(foreign.statusCode).toBe(404);
    expect(eventsNamed('auth.sessions_revoked').at(-1)).toMatchObject({ scope: 'one', count: 1 });
  });

  it('logs out everywhere', async () => {
    const tokens = [await tokenOf('bob', '10.7.0.2'), await tokenOf('bob', '10.7.0.2')];
    const response = await server.inject({
      method: 'POST',
      url: '/auth/logout-all',
      headers: bearer(tokens[0]!),
    });
    expect(response.statusCode).toBe(204);
    for (const token of tokens) expect((await me(token)).statusCode).toBe(401);
    expect(eventsNamed('auth.sessions_revoked').at(-1)).toMatchObject({ scope: 'all', count: 2 });
  });

  it('an operator key has no sessions to manage', async () => {
    const response = await server.inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: bearer(OPERATOR_KEY),
    });
    expect(response.statusCode).toBe(403);
  });

  it('changes the password with the current one and revokes every other session', async () => {
    const kept = await tokenOf('alice', '10.7.0.3');
    const other = await tokenOf('alice', '10.7.0.3');
    const change = (current: string, next: string) =>
      server.inject({
        method: 'POST',
        url: '/auth/password',
        headers: bearer(kept),
        payload: { current_password: current, new_password: next },
      });
    const wrong = await change('not my password', 'a brand new secret 42');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.fields).toEqual([
      { field: 'current_password', message: 'is not your current password' },
    ]);
    const common = await change('correct horse 1', 'password123');
    expect(common.statusCode).toBe(400);
    expect(common.json().error.fields[0]).toMatchObject({
      field: 'new_password',
      message: expect.stringMatching(/common or breached/),
    });
    expect((await change('correct horse 1', 'a brand new secret 42')).statusCode).toBe(204);
    expect((await me(kept)).statusCode).toBe(200);
    expect((await me(other)).statusCode).toBe(401);
    expect((await login('alice', 'a brand new secret 42', '10.7.0.3')).statusCode).toBe(200);
    const [row] = await database.handle.db.select().from(accounts).where(eq(accounts.username, 'alice'));
    expect(eventsNamed('auth.password_changed').at(-1)).toMatchObject({ userId: row!.id });
    expect(eventsNamed('auth.sessions_revoked').at(-1)).toMatchObject({ scope: 'others', count: 1 });
    // Back, for the other tests.
    await database.handle.db
      .update(accounts)
      .set({ hashedPassword: await hashPassword('correct horse 1') })
      .where(eq(accounts.id, row!.id));
  });
});

describe('password recovery', () => {
  const mails = () => sentMail(mailDir);
  const request = (username: string, ip = '10.8.0.1') =>
    server.inject({ method: 'POST', url: '/auth/password-reset', payload: { username }, remoteAddress: ip });
  const confirm = (token: string, password: string, ip = '10.8.0.2') =>
    server.inject({
      method: 'POST',
      url: '/auth/password-reset/confirm',
      payload: { token, new_password: password },
      remoteAddress: ip,
    });

  it('mails a one-time token that sets a new password once, ending every session', async () => {
    const session = await tokenOf('dave', '10.8.0.3');
    const before = mails().length;
    expect((await request('dave')).statusCode).toBe(202);
    // An unknown account answers the same, and nothing is mailed.
    expect((await request('nobody')).statusCode).toBe(202);
    const sent = mails().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^To: dave@example\.test$/m);
    const token = /^([A-Za-z0-9_-]{43})$/m.exec(sent[0]!)![1]!;
    const [stored] = await database.handle.db.select().from(authPasswordResets);
    expect(stored!.tokenDigest).not.toBe(token);

    expect((await confirm(token, 'recovered secret 99')).statusCode).toBe(204);
    expect((await me(session)).statusCode).toBe(401);
    expect((await login('dave', 'recovered secret 99', '10.8.0.3')).statusCode).toBe(200);
    const reused = await confirm(token, 'another secret 100');
    expect(reused.statusCode).toBe(400);
    expect(reused.json().error.fields).toEqual([{ field: 'token', message: 'is invalid, used or expired' }]);
    expect(eventsNamed('auth.password_reset_requested').length).toBeGreaterThanOrEqual(2);
    expect(eventsNamed('auth.password_reset_used').at(-1)).toMatchObject({ clientAddress: '10.8.0.2' });
    expect(JSON.stringify(logLines)).not.toContain(token);
  });

  it('refuses an expired token', async () => {
    const before = mails().length;
    await request('dave', '10.8.0.4');
    const token = /^([A-Za-z0-9_-]{43})$/m.exec(mails()[before]!)![1]!;
    await database.handle.db.update(authPasswordResets).set({ expiresAt: new Date(Date.now() - 1000) });
    expect((await confirm(token, 'recovered secret 98', '10.8.0.4')).statusCode).toBe(400);
  });
});

describe('registrationRateLimit', () => {
  const register = (ip: string, headers = {}) =>
    server.inject({ method: 'POST', url: '/register', remoteAddress: ip, headers });

  it('allows a number of requests a minute per IP, then 429 with Retry-After in the error shape', async () => {
    const statuses = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push(await register('10.4.0.1'));
    expect(statuses.slice(0, 3).map((r) => r.statusCode)).toEqual([201, 201, 201]);
    const refused = statuses[3]!;
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.json().error).toMatchObject({ code: 'rate_limited' });
    expect(refused.json().error.message).toMatch(/^too many registrations; retry in \d+ seconds$/);
    // Another client is counted on its own.
    expect((await register('10.4.0.2')).statusCode).toBe(201);
  });

  it('does not count requests made with an operator key', async () => {
    const statuses = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      statuses.push((await register('10.4.0.3', bearer(OPERATOR_KEY))).statusCode);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201]);
    // A wrong key is a stranger.
    for (let attempt = 0; attempt < 3; attempt++) await register('10.4.0.4', bearer('x'.repeat(32)));
    expect((await register('10.4.0.4', bearer('x'.repeat(32)))).statusCode).toBe(429);
  });
});
