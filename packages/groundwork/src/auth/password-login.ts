import type { preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { AppServer } from '../http/app-server.ts';
import { HttpError } from '../http/errors.ts';
import { safeText } from '../http/input.ts';
import { answering, errorResponses } from '../http/responses.ts';
import { loginFailures } from '../observability/metrics.ts';
import { hashPassword, needsRehash, verifyPassword } from '../security/passwords.ts';
import { presentedPassword } from './password-policy.ts';
import { type PasswordRecovery, recoveryRoutes } from './password-recovery.ts';
import { counterStoreOf, tooMany, windowLimit } from './rate-limits.ts';
import { securityEvent } from './security-events.ts';
import { sessionRoutes } from './session-routes.ts';
import { sessionTokenDigest } from './session-tokens.ts';
import type { SessionStore } from './sessions.ts';

/** What a password app tells the login route about the account a login names. */
export interface PasswordAccount {
  id: string;
  hashedPassword: string;
  /** A blocked account answers 403 after a correct password (a wrong one stays 401). */
  blocked?: boolean;
  /** Where a password reset is mailed; an account without one cannot recover by mail. */
  email?: string;
}

export interface PasswordLoginOptions {
  /** The body field naming the account: `username` (counseling) or `email` (learnr). */
  loginField: 'username' | 'email';
  findAccount(login: string): Promise<PasswordAccount | undefined>;
  /** The same for a user id (a password change checks the current password). */
  findAccountById(id: string): Promise<PasswordAccount | undefined>;
  /** Stores a new hash: a changed or reset password, or one rehashed on login with new argon2 parameters. */
  updatePasswordHash(id: string, hash: string): Promise<void>;
  sessions: SessionStore;
  /** Password recovery by mail (AppContext.recovery); without it the reset routes are not mounted. */
  recovery?: PasswordRecovery;
  /** Login attempts a minute from one client address, whatever the account (default 20). */
  perAddressPerMinute?: number;
  /** Failed logins for one account from one client address per 15 minutes (default 10). */
  failuresPerAccountAndAddress?: number;
}

const tokenResponse = z.object({ token: z.string(), expires_at: z.string() });

/** A real argon2id hash of nothing anyone knows: unknown logins verify against it, so they take as long. */
let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= hashPassword(crypto.randomUUID()));

/**
 * The account routes of a password app under the caller's prefix: login and logout here, "my sessions" and
 * password change (session-routes.ts), recovery when configured (password-recovery.ts). Login failures are limited per (account, client
 * address) and attempts per client address, so a stranger's failures never refuse the right password from
 * another address (docs/auth.md, "Throttling").
 */
export async function passwordLoginRoutes(app: AppServer, options: PasswordLoginOptions): Promise<void> {
  const field = options.loginField;
  const body = z.strictObject({ [field]: safeText().min(1).max(320), password: presentedPassword() });
  const perAddress = windowLimit('login-address', options.perAddressPerMinute ?? 20, 60_000);
  const failures = windowLimit('login-failures', options.failuresPerAccountAndAddress ?? 10, 15 * 60_000);

  app.post(
    '/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Log in: a session token for Authorization: Bearer',
        body,
        response: { 200: tokenResponse, ...errorResponses(401, 403, 429) },
      },
    },
    async (request, reply) => {
      const values = request.body as Record<string, string>;
      const login = values[field]!;
      const counters = counterStoreOf(app);
      // Throttle keys fold the name as loosely as any lookup could, so case variants share one count.
      const pair = JSON.stringify([login.normalize('NFKC').toLowerCase(), request.ip]);
      const throttled = (limit: string, retryAfterS: number) =>
        tooMany(
          request,
          reply,
          'auth.login_throttled',
          { account: login, limit },
          retryAfterS,
          'login attempts',
        );
      const addressWait = await perAddress.hit(counters, request.ip);
      if (addressWait !== undefined) throw throttled('address', addressWait);
      const pairWait = await failures.reached(counters, pair);
      if (pairWait !== undefined) throw throttled('account_address', pairWait);

      const account = await options.findAccount(login);
      const verified = await verifyPassword(account?.hashedPassword ?? (await dummy()), values.password!);
      if (!account || !verified) {
        securityEvent(request, 'auth.login_failed', {
          account: login,
          reason: account ? 'wrong_password' : 'unknown_account',
        });
        if (await failures.count(counters, pair)) {
          securityEvent(request, 'auth.login_locked', { account: login, limit: 'account_address' });
        }
        loginFailures.inc({ route: request.routeOptions.url! });
        throw new HttpError(401, 'unauthorized', `wrong ${field} or password`);
      }
      if (account.blocked) {
        securityEvent(request, 'auth.login_failed', {
          account: login,
          userId: account.id,
          reason: 'blocked',
        });
        throw new HttpError(403, 'forbidden', 'this account is blocked');
      }
      await failures.clear(counters, pair);
      if (needsRehash(account.hashedPassword)) {
        await options.updatePasswordHash(account.id, await hashPassword(values.password!));
      }
      const session = await options.sessions.open(account.id);
      return { token: session.token, expires_at: session.expiresAt.toISOString() };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['auth'],
        summary: 'Revoke the session token this request carries',
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (token && request.identity.kind === 'user' && request.identity.via === 'session') {
        await options.sessions.revoke(sessionTokenDigest(token));
      }
      return reply.status(204).send(null);
    },
  );

  await sessionRoutes(app, {
    sessions: options.sessions,
    passwordHashOf: async (userId) => (await options.findAccountById(userId))?.hashedPassword,
    updatePasswordHash: options.updatePasswordHash,
  });
  if (options.recovery) {
    await recoveryRoutes(app, {
      loginField: field,
      recovery: options.recovery,
      findAccount: options.findAccount,
      updatePasswordHash: options.updatePasswordHash,
      sessions: options.sessions,
    });
  }
}

/**
 * A preHandler allowing `perIpPerMinute` requests a minute from one client address, then 429 with
 * Retry-After in the error shape: for public routes that cost a password hash, such as registration in the
 * password apps. It runs after validation, so invalid requests do not count; a request with an operator key
 * is not counted.
 */
export function registrationRateLimit({ perIpPerMinute = 20 } = {}): preHandlerAsyncHookHandler {
  const limit = windowLimit('registration-address', perIpPerMinute, 60_000);
  return answering([429], async (request, reply) => {
    if (request.identity.kind === 'admin') return;
    const wait = await limit.hit(counterStoreOf(request.server), request.ip);
    if (wait !== undefined)
      throw tooMany(request, reply, 'auth.registration_throttled', {}, wait, 'registrations');
  });
}
