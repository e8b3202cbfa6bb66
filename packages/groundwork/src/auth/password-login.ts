import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { AppServer } from '../http/app-server.ts';
import { HttpError } from '../http/errors.ts';
import { safeText } from '../http/input.ts';
import { answering, errorResponses } from '../http/responses.ts';
import { loginFailures } from '../observability/metrics.ts';
import { hashPassword, needsRehash, verifyPassword } from '../security/passwords.ts';
import { sessionTokenDigest } from './session-tokens.ts';
import type { SessionStore } from './sessions.ts';

/** What a password app tells the login route about the account a login names. */
export interface PasswordAccount {
  id: string;
  hashedPassword: string;
  /** A blocked account answers 403 after a correct password (a wrong one stays 401). */
  blocked?: boolean;
}

export interface PasswordLoginOptions {
  /** The body field naming the account: `username` (counseling) or `email` (learnr). */
  loginField: 'username' | 'email';
  findAccount(login: string): Promise<PasswordAccount | undefined>;
  /** Stores a new hash made on login when the argon2 parameters changed. */
  updatePasswordHash(id: string, hash: string): Promise<void>;
  sessions: SessionStore;
  /** Attempts per IP and per account per minute (defaults 20 and 5). */
  perIpPerMinute?: number;
  perAccountPerMinute?: number;
}

const tokenResponse = z.object({ token: z.string(), expires_at: z.string() });

/** A real argon2id hash of nothing anyone knows: unknown logins verify against it, so they take as long. */
let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= hashPassword(crypto.randomUUID()));

/**
 * POST /auth/login and /auth/logout under the caller's prefix. Logins are rate limited per IP and per
 * account (429 with Retry-After); the limits live in this process's memory, so each instance counts its own.
 */
export async function passwordLoginRoutes(app: AppServer, options: PasswordLoginOptions): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'rate_limited', `too many login attempts; retry in ${context.after}`),
  });
  const field = options.loginField;
  const body = z.strictObject({ [field]: safeText().min(1).max(320), password: safeText().min(1).max(256) });
  const loginOf = (request: FastifyRequest) =>
    String((request.body as Record<string, unknown> | undefined)?.[field] ?? '').toLowerCase();

  app.post(
    '/auth/login',
    {
      config: { auth: 'public' },
      // The plugin counts per IP; it runs one limiter per request, so the per-account count is kept here.
      preHandler: [
        answering([429], app.rateLimit({ max: options.perIpPerMinute ?? 20, timeWindow: 60_000 })),
        perMinuteLimit(options.perAccountPerMinute ?? 5, loginOf, 'login attempts'),
      ],
      schema: {
        tags: ['auth'],
        summary: 'Log in: a session token for Authorization: Bearer',
        body,
        response: { 200: tokenResponse, ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      const values = request.body as Record<string, string>;
      const account = await options.findAccount(values[field]!);
      const verified = await verifyPassword(account?.hashedPassword ?? (await dummy()), values.password!);
      if (!account || !verified) {
        loginFailures.inc({ route: request.routeOptions.url! });
        throw new HttpError(401, 'unauthorized', `wrong ${field} or password`);
      }
      if (account.blocked) throw new HttpError(403, 'forbidden', 'this account is blocked');
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
}

/**
 * A preHandler allowing `perIpPerMinute` requests a minute from one client IP, then 429 with Retry-After in
 * the error shape: for public routes that cost a password hash, such as registration in the password apps.
 * It runs after validation, so invalid requests do not count; each process counts its own.
 */
export function registrationRateLimit({ perIpPerMinute = 20 } = {}): preHandlerAsyncHookHandler {
  return perMinuteLimit(perIpPerMinute, (request) => request.ip, 'registrations');
}

/** A preHandler answering 429 once a key (of the request) is over `max` requests in the current minute. */
function perMinuteLimit(
  max: number,
  keyOf: (request: FastifyRequest) => string,
  what: string,
): preHandlerAsyncHookHandler {
  const limiter = fixedWindowLimiter(max, 60_000);
  return answering([429], async (request, reply) => {
    const retryAfterS = limiter.hit(keyOf(request));
    if (retryAfterS === undefined) return;
    reply.header('retry-after', retryAfterS);
    throw new HttpError(429, 'rate_limited', `too many ${what}; retry in ${retryAfterS} seconds`);
  });
}

/**
 * Counts attempts per key in fixed windows; `hit` answers the seconds to wait once a key is over `max`.
 * At most 10,000 keys are remembered (the oldest are forgotten), so made-up logins cannot exhaust memory.
 */
function fixedWindowLimiter(max: number, windowMs: number) {
  const windows = new Map<string, { started: number; count: number }>();
  return {
    hit(key: string): number | undefined {
      const now = Date.now();
      let window = windows.get(key);
      if (!window || now - window.started >= windowMs) {
        windows.delete(key);
        window = { started: now, count: 0 };
        windows.set(key, window);
        if (windows.size > 10_000) windows.delete(windows.keys().next().value!);
      }
      window.count++;
      return window.count > max ? Math.ceil((window.started + windowMs - now) / 1000) : undefined;
    },
  };
}
