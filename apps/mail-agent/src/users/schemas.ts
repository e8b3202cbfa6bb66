import { isoTimestamp, keysetPage, keysetPageQuery, nonEmptyPatch, safeText } from 'groundwork-pg';
import { z } from 'zod';
import type { UserRow } from './repository.ts';

// Gmail treats addresses case-insensitively; storing them lowercased makes the unique index mean that too.
// The document states the address form the pipe checks (surrounding blanks are forgiven, not documented).
const email = safeText()
  .trim()
  .toLowerCase()
  .max(255)
  .meta({ format: 'email', pattern: z.regexes.email.source })
  .pipe(z.email());

// Telegram user ids are integers (up to 52 bits); kept as text, as the story's schema does. One form per id:
// digits only and no leading zero, so `00123` cannot link a second user to the account `123` holds.
const telegramId = safeText()
  .trim()
  .regex(/^[1-9][0-9]{0,19}$/, 'must be a Telegram user id: digits only, without leading zeros');
// Checked before the leading @ is dropped, so the document states the rule: some character besides blanks and @.
const telegramUsername = safeText()
  .trim()
  .max(100)
  .regex(/[^\s@]/, 'must name a Telegram username')
  .transform((v) => v.replace(/^@/, ''));

export const UserCreate = z.strictObject({ email }).meta({ id: 'UserCreate' });

export const UserUpdate = nonEmptyPatch(
  z.strictObject({
    telegram_id: telegramId.nullable().optional(),
    telegram_username: telegramUsername.nullable().optional(),
    onboarding_completed: z.boolean().optional(),
  }),
  'give at least one of telegram_id, telegram_username, onboarding_completed',
).meta({ id: 'UserUpdate' });

/** What the API shows of a user: whether Gmail is connected, never a token (sealed or not). */
export const UserPublic = z
  .object({
    id: z.number().int(),
    email: z.string(),
    gmail_connected: z.boolean(),
    telegram_id: z.string().nullable(),
    telegram_username: z.string().nullable(),
    onboarding_completed: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'UserPublic' });
export type UserPublic = z.infer<typeof UserPublic>;

export const UserListQuery = keysetPageQuery(z.coerce.number().int().min(0).max(2_147_483_647), {
  defaultLimit: 50,
  maxLimit: 100,
});

/** `next_after`: pass as `after` for the next page; null on the last page. */
export const UserList = keysetPage(UserPublic, z.number().int()).meta({ id: 'UserList' });

export const GmailTokensPut = z
  .strictObject({
    access_token: safeText().min(1).max(8192),
    refresh_token: safeText().min(1).max(8192),
  })
  .meta({ id: 'GmailTokensPut' });

export function toUserPublic(row: UserRow): UserPublic {
  return {
    id: row.id,
    email: row.email,
    gmail_connected: row.gmailOauthToken !== null && row.gmailRefreshToken !== null,
    telegram_id: row.telegramId,
    telegram_username: row.telegramUsername,
    onboarding_completed: row.onboardingCompleted,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
  };
}
