import * as argon2 from '@node-rs/argon2';
import { eq } from 'drizzle-orm';
import { boolean, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseOperatorKeys } from '../src/auth/operator-keys.ts';
import { passwordLoginRoutes, registrationRateLimit } from '../src/auth/password-login.ts';
import { registerAuth } from '../src/auth/plugin.ts';
import { authSessionsTable, createSessionStore } from '../src/auth/sessions.ts';
import { errorHandler } from '../src/http/errors.ts';
import { hashPassword, needsRehash, verifyPassword } from '../src/security/passwords.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull().unique(),
  hashedPassword: text('hashed_password').notNull(),
  isBlocked: boolean('is_blocked').notNull().default(false),
});
const authSessions = authSessionsTable(accounts.id);

let database: TestDatabase<any>;
let server: FastifyInstance;

/** Accounts and sessions on a real database (PGlite, or the test server), created by hand for this test. */
beforeAll(async () => {
  database = await createTestDatabase(notes, { migrate: false });
  const session = await database.handle.session();
  await session.query(`create table accounts (id uuid primary key default gen_random_uuid(),
    username text not null unique, hashed_password text not null, is_blocked boolean not null default false)`);
  await session.query(`create table auth_sessions (token_digest text primary key,
    user_id uuid not null references accounts(id) on delete cascade,
    created_at timestamptz not null default now(), expires_at timestamptz not null)`);
  await session.release();
  const db = database.handle.db;
  const password = await hashPassword('correct horse 1');
  // An older, cheaper hash: a successful login must replace it.
  const weak = await argon2.hash('correct horse 1', { memoryCost: 8192, timeCost: 1, parallelism: 1 });
  await db.insert(accounts).values([
    { username: 'alice', hashedPassword: password },
    { username: 'blocked', hashedPassword: password, isBlocked: true },
    { username: 'legacy', hashedPassword: weak },
  ]);
  const sessions = createSessionStore(db, authSessions, 3600);
  server = Fastify().withTypeProvider<ZodTypeProvider>();
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.setErrorHandler(errorHandler);
  registerAuth(server, { operatorKeys: parseOperatorKeys(''), sessions, open: false });
  await server.register(passwordLoginRoutes, {
    loginField: 'username',
    sessions,
    perAccountPerMinute: 8,
    findAccount: async (username: string) => {
      const [row] = await db.select().from(accounts).where(eq(accounts.username, username));
      return row && { id: row.id, hashedPassword: row.hashedPassword, blocked: row.isBlocked };
    },
    updatePasswordHash: async (id: string, hash: string) => {
      await db.update(accounts).set({ hashedPassword: hash }).where(eq(accounts.id, id));
    },
  });
  server.get('/me', async (request) => request.identity);
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
});

afterEach(() => database.handle.db.delete(authSessions));

const login = (username: string, password: string, ip = '10.0.0.1') =>
  server.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress: ip });
const me = (token: string) =>
  server.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });

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
      // A 429 would answer fast and prove nothing: stay under the per-account limit (5 a minute).
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

  it('revokes the token on logout, and an expired session no longer authenticates', async () => {
    const { token } = (await login('alice', 'correct horse 1', '10.0.0.4')).json();
    const logout = await server.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.statusCode).toBe(204);
    expect((await me(token)).statusCode).toBe(401);

    const second = (await login('alice', 'correct horse 1', '10.0.0.4')).json().token;
    await database.handle.db.update(authSessions).set({ expiresAt: new Date(Date.now() - 1000) });
    expect((await me(second)).statusCode).toBe(401);
  });

  it('upgrades a hash made with older argon2 parameters on login', async () => {
    expect((await login('legacy', 'correct horse 1', '10.0.0.5')).statusCode).toBe(200);
    const [row] = await database.handle.db.select().from(accounts).where(eq(accounts.username, 'legacy'));
    expect(needsRehash(row!.hashedPassword)).toBe(false);
    expect((await login('legacy', 'correct horse 1', '10.0.0.5')).statusCode).toBe(200);
  });

  it('limits attempts per account across IPs, answering 429 with Retry-After', async () => {
    const answers = [];
    for (let attempt = 0; attempt < 9; attempt++) {
      answers.push(await login('target', 'guess guess 1', `10.2.0.${attempt}`));
    }
    expect(answers.slice(0, 8).every((r) => r.statusCode === 401)).toBe(true);
    expect(answers[8]!.statusCode).toBe(429);
    expect(Number(answers[8]!.headers['retry-after'])).toBeGreaterThan(0);
    expect(answers[8]!.json().error.code).toBe('rate_limited');
  });

  it('limits attempts per IP across accounts', async () => {
    const statuses = [];
    for (let attempt = 0; attempt < 21; attempt++) {
      statuses.push((await login(`user${attempt}`, 'guess guess 1', '10.3.0.1')).statusCode);
    }
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('registrationRateLimit', () => {
  const register = (ip: string) => server.inject({ method: 'POST', url: '/register', remoteAddress: ip });

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
});
