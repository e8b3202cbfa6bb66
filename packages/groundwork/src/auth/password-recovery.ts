import { and, eq, gt } from 'drizzle-orm';
import { index, type PgColumn, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Mailer } from '../adapters/mail.ts';
import type { Database } from '../database/open.ts';
import type { AppServer } from '../http/app-server.ts';
import { HttpError } from '../http/errors.ts';
import { safeText } from '../http/input.ts';
import { errorResponses } from '../http/responses.ts';
import { newPassword } from './password-policy.ts';
import { counterStoreOf, tooMany, windowLimit } from './rate-limits.ts';
import { securityEvent } from './security-events.ts';
import { replacePassword } from './session-routes.ts';
import { createSessionToken, sessionTokenDigest } from './session-tokens.ts';
import type { SessionStore } from './sessions.ts';

/**
 * Password-reset tokens of a password app, for its schema.ts:
 * `export const authPasswordResets = authPasswordResetsTable(users.id)`. Only a token's SHA-256 is stored.
 */
export function authPasswordResetsTable(userId: PgColumn) {
  return pgTable(
    'auth_password_resets',
    {
      tokenDigest: text('token_digest').primaryKey(),
      userId: uuid('user_id')
        .notNull()
        .references(() => userId, { onDelete: 'cascade' }),
      expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    },
    (t) => [index('auth_password_resets_user_id_idx').on(t.userId)],
  );
}

export type AuthPasswordResetsTable = ReturnType<typeof authPasswordResetsTable>;

/** One-time reset tokens: issuing one replaces the user's earlier ones; using one deletes it. */
export function createResetStore(db: Database, table: AuthPasswordResetsTable, ttlS: number) {
  return {
    async issue(userId: string): Promise<{ token: string; expiresAt: Date }> {
      const { token, digest } = createSessionToken();
      const expiresAt = new Date(Date.now() + ttlS * 1000);
      await db.transaction(async (tx) => {
        await tx.delete(table).where(eq(table.userId, userId));
        await tx.insert(table).values({ tokenDigest: digest, userId, expiresAt });
      });
      return { token, expiresAt };
    },
    /** The user of an unexpired token, which is deleted so it works once; undefined for any other token. */
    async consume(token: string): Promise<string | undefined> {
      const [row] = await db
        .delete(table)
        .where(and(eq(table.tokenDigest, sessionTokenDigest(token)), gt(table.expiresAt, new Date())))
        .returning({ userId: table.userId });
      return row?.userId;
    },
  };
}

export type ResetStore = ReturnType<typeof createResetStore>;

/** What a password app needs for recovery: its reset tokens and a mailer (none: production without MAIL_URL). */
export interface PasswordRecovery {
  resets: ResetStore;
  mailer: Mailer | undefined;
  /** The app's title, for the message's subject. */
  appTitle: string;
}

export interface RecoveryRoutesOptions {
  loginField: 'username' | 'email';
  recovery: PasswordRecovery;
  /** The account a login names, with the address a reset is mailed to. */
  findAccount(login: string): Promise<{ id: string; email?: string } | undefined>;
  updatePasswordHash(id: string, hash: string): Promise<void>;
  sessions: SessionStore;
}

const perAddress = windowLimit('reset-address', 5, 60_000);

/**
 * POST /auth/password-reset mails a one-time token (hashed at rest, AUTH_RESET_TTL_S); POST
 * /auth/password-reset/confirm sets a new password with it and ends every session (ASVS 2.5).
 * The request answers 202 whether or not the account exists, so it does not reveal which do.
 */
export async function recoveryRoutes(app: AppServer, options: RecoveryRoutesOptions): Promise<void> {
  const { recovery, loginField } = options;
  const tags = ['auth'];
  /** Requests and confirmations share one per-address budget: both are ways to guess at accounts or tokens. */
  const throttle = async (request: FastifyRequest, reply: FastifyReply, account?: string) => {
    const wait = await perAddress.hit(counterStoreOf(app), request.ip);
    if (wait === undefined) return;
    throw tooMany(
      request,
      reply,
      'auth.login_throttled',
      { account, limit: 'password_reset' },
      wait,
      'reset requests',
    );
  };
  app.post(
    '/auth/password-reset',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Mail a password-reset token to the account (202 whether or not it exists)',
        body: z.strictObject({ [loginField]: safeText().min(1).max(320) }),
        response: { 202: z.null(), ...errorResponses(429, 503) },
      },
    },
    async (request, reply) => {
      const login = (request.body as Record<string, string>)[loginField]!;
      await throttle(request, reply, login);
      if (!recovery.mailer) {
        throw new HttpError(503, 'unavailable', 'password recovery needs mail: set MAIL_URL');
      }
      const account = await options.findAccount(login);
      securityEvent(request, 'auth.password_reset_requested', { account: login, userId: account?.id });
      if (account?.email) {
        const { token, expiresAt } = await recovery.resets.issue(account.id);
        await recovery.mailer.send({
          to: account.email,
          subject: `${recovery.appTitle}: reset your password`,
          text:
            `Someone asked to reset the password of your account. If it was you, send this token with your new ` +
            `password to ${request.routeOptions.url}/confirm before ${expiresAt.toISOString()}:\n\n${token}\n\n` +
            'If it was not you, ignore this message: your password stays as it is.\n',
        });
      }
      return reply.status(202).send(null);
    },
  );

  app.post(
    '/auth/password-reset/confirm',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Set a new password with a reset token; ends every session of the account',
        body: z.strictObject({
          token: safeText()
            .min(1)
            .max(128)
            .describe('token: the one mailed to you; one that is invalid, used or expired is refused'),
          new_password: newPassword(),
        }),
        response: { 204: z.null(), ...errorResponses(429) },
      },
    },
    async (request, reply) => {
      const body = request.body as { token: string; new_password: string };
      await throttle(request, reply);
      const userId = await recovery.resets.consume(body.token);
      if (!userId) {
        securityEvent(request, 'auth.login_failed', { reason: 'invalid_reset_token' });
        throw new HttpError(400, 'validation_error', 'token is invalid, used or expired', [
          { field: 'token', message: 'is invalid, used or expired' },
        ]);
      }
      await replacePassword(request, options, {
        userId,
        password: body.new_password,
        event: 'auth.password_reset_used',
      });
      return reply.status(204).send(null);
    },
  );
}
