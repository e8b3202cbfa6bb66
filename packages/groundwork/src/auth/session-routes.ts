import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppServer } from '../http/app-server.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { errorResponses } from '../http/responses.ts';
import { hashPassword, verifyPassword } from '../security/passwords.ts';
import { newPassword, presentedPassword } from './password-policy.ts';
import { counterStoreOf, tooMany, windowLimit } from './rate-limits.ts';
import { securityEvent } from './security-events.ts';
import { sessionTokenDigest } from './session-tokens.ts';
import type { SessionStore } from './sessions.ts';

export interface SessionRoutesOptions {
  sessions: SessionStore;
  /** The stored hash of a user's password, for a change that must present the current one. */
  passwordHashOf(userId: string): Promise<string | undefined>;
  updatePasswordHash(id: string, hash: string): Promise<void>;
}

const SessionPublic = z.object({
  id: z.string().describe("the session's id (a digest: it cannot be used as a token)"),
  created_at: z.string(),
  last_seen_at: z.string(),
  expires_at: z.string(),
  current: z.boolean().describe('the session this request came with'),
});

/** Failed current-password checks per user and address: a stolen session cannot guess the password freely. */
const wrongCurrent = windowLimit('password-change-failures', 10, 15 * 60_000);

/**
 * Stores a user's new password and ends their sessions, all of them or all but `keep` (the caller's own): a
 * session opened with the old password must not outlive it.
 */
export async function replacePassword(
  request: FastifyRequest,
  options: Pick<SessionRoutesOptions, 'sessions' | 'updatePasswordHash'>,
  change: {
    userId: string;
    password: string;
    event: 'auth.password_changed' | 'auth.password_reset_used';
    keep?: string;
  },
): Promise<void> {
  const { userId, keep } = change;
  await options.updatePasswordHash(userId, await hashPassword(change.password));
  const count = await options.sessions.revokeAll(userId, keep);
  securityEvent(request, change.event, { userId });
  securityEvent(request, 'auth.sessions_revoked', { userId, scope: keep ? 'others' : 'all', count });
}

/** The caller's own login session, which the routes' `auth: 'session'` guarantees. */
function ownSession(request: FastifyRequest): { userId: string; digest: string } {
  const { identity } = request;
  const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (identity.kind !== 'user' || identity.via !== 'session' || !token) {
    throw new Error('a session route was reached without a login session');
  }
  return { userId: identity.userId, digest: sessionTokenDigest(token) };
}

/**
 * A user's own sessions (ASVS 3.3.3-3.3.4, 2.1.5-2.1.6): list them, end one, end all, and change the password
 * with the current one, which ends every other session.
 */
export async function sessionRoutes(app: AppServer, options: SessionRoutesOptions): Promise<void> {
  const { sessions } = options;
  const tags = ['auth'];

  app.get(
    '/auth/sessions',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'My live sessions, most recently used first',
        response: { 200: z.array(SessionPublic) },
      },
    },
    async (request) => {
      const own = ownSession(request);
      return (await sessions.list(own.userId)).map((session) => ({
        id: session.id,
        created_at: session.createdAt.toISOString(),
        last_seen_at: session.lastSeenAt.toISOString(),
        expires_at: session.expiresAt.toISOString(),
        current: session.id === own.digest,
      }));
    },
  );

  app.delete(
    '/auth/sessions/:id',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'End one of my sessions',
        params: z.object({
          id: z
            .string()
            .length(64, { message: 'must be a session id' })
            .regex(/^[0-9a-f]{64}$/, { message: 'must be a session id' }),
        }),
        response: { 204: z.null(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const own = ownSession(request);
      const { id } = request.params as { id: string };
      if (!(await sessions.revokeOwn(own.userId, id))) throw notFound('Session');
      securityEvent(request, 'auth.sessions_revoked', { userId: own.userId, scope: 'one', count: 1 });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/auth/logout-all',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'End every one of my sessions, this one included',
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const own = ownSession(request);
      const count = await sessions.revokeAll(own.userId);
      securityEvent(request, 'auth.sessions_revoked', { userId: own.userId, scope: 'all', count });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/auth/password',
    {
      config: { auth: 'session' },
      schema: {
        tags,
        summary: 'Change my password (the current one required); ends every other session',
        body: z.strictObject({
          current_password: presentedPassword().describe(
            'current_password must be your password as it is now',
          ),
          new_password: newPassword(),
        }),
        response: { 204: z.null(), ...errorResponses(429) },
      },
    },
    async (request, reply) => {
      const own = ownSession(request);
      const body = request.body as { current_password: string; new_password: string };
      const counters = counterStoreOf(app);
      const key = `${own.userId} ${request.ip}`;
      const wait = await wrongCurrent.reached(counters, key);
      if (wait !== undefined) {
        const fields = { userId: own.userId, limit: 'password_change' };
        throw tooMany(request, reply, 'auth.login_throttled', fields, wait, 'wrong current passwords');
      }
      const hash = await options.passwordHashOf(own.userId);
      if (!hash || !(await verifyPassword(hash, body.current_password))) {
        await wrongCurrent.count(counters, key);
        securityEvent(request, 'auth.login_failed', { userId: own.userId, reason: 'wrong_current_password' });
        throw new HttpError(400, 'validation_error', 'current_password is not your current password', [
          { field: 'current_password', message: 'is not your current password' },
        ]);
      }
      await replacePassword(request, options, {
        userId: own.userId,
        password: body.new_password,
        event: 'auth.password_changed',
        keep: own.digest,
      });
      return reply.status(204).send(null);
    },
  );
}
