import { getTableName } from 'drizzle-orm';
import { HttpError, type KeyRing, open, type SealedPlace, seal } from 'groundwork-pg';
import { users as usersTable } from '../schema.ts';
import type { UsersRepository } from './repository.ts';

export type TokenColumn = 'accessToken' | 'refreshToken';
const COLUMNS = { accessToken: usersTable.gmailOauthToken, refreshToken: usersTable.gmailRefreshToken };

/** Where a user's token lives: sealed values are bound to it, so a token copied elsewhere does not open. */
export const tokenPlace = (userId: number, token: TokenColumn): SealedPlace => ({
  table: getTableName(usersTable),
  column: COLUMNS[token].name,
  rowId: userId,
});

export interface GmailTokens {
  accessToken: string;
  refreshToken: string;
}

/** 503 rather than storing anything: without SECRET_KEYS there is no way to keep a token safely. */
export const tokenStorageDisabled = () =>
  new HttpError(
    503,
    'token_storage_disabled',
    'Gmail token storage is disabled: SECRET_KEYS is not set. Generate a key with ' +
      '`npx groundwork secrets generate-key` and set SECRET_KEYS (see apps/mail-agent/README.md).',
  );

/**
 * Seals and opens a user's Gmail tokens: the only code that sees them in plaintext. Routes store and
 * clear; `read` is for the Gmail client (story 1.4+), never for a response.
 */
export function createGmailTokenVault({
  users,
  ring,
}: {
  users: UsersRepository;
  ring: KeyRing | undefined;
}) {
  return {
    /** Returns false when the user does not exist or is deactivated. */
    async store({ userId, tokens }: { userId: number; tokens: GmailTokens }): Promise<boolean> {
      if (ring === undefined) throw tokenStorageDisabled();
      return users.setSealedTokens({
        id: userId,
        tokens: {
          accessToken: seal(ring, tokens.accessToken, tokenPlace(userId, 'accessToken')),
          refreshToken: seal(ring, tokens.refreshToken, tokenPlace(userId, 'refreshToken')),
        },
      });
    },

    async clear({ userId }: { userId: number }): Promise<boolean> {
      return users.setSealedTokens({ id: userId, tokens: { accessToken: null, refreshToken: null } });
    },

    /** Undefined: no such active user; null: Gmail not connected. Throws SecretError for an unopenable value. */
    async read({ userId }: { userId: number }): Promise<GmailTokens | null | undefined> {
      const sealed = await users.sealedTokens({ id: userId });
      if (sealed === undefined) return undefined;
      if (sealed.accessToken === null || sealed.refreshToken === null) return null;
      if (ring === undefined) throw tokenStorageDisabled();
      return {
        accessToken: open(ring, sealed.accessToken, tokenPlace(userId, 'accessToken')),
        refreshToken: open(ring, sealed.refreshToken, tokenPlace(userId, 'refreshToken')),
      };
    },
  };
}

export type GmailTokenVault = ReturnType<typeof createGmailTokenVault>;
