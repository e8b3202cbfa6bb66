import { accountName, isoTimestamp, newPassword, offsetPage, offsetPageQuery } from 'groundwork-pg';
import { z } from 'zod';

/** `\domain\username`: the same rule as the users_username_format CHECK, so bad input is a 400 naming the field. */
export const USERNAME_PATTERN = /^\\[^\\]+\\[^\\]+$/;

/** NFKC, no invisible characters (the foundation's account-name rule), then the \\domain\\username shape. */
const username = accountName()
  .max(255)
  .regex(USERNAME_PATTERN, { message: 'must have the form \\domain\\username' })
  .describe('Windows-style account name, for example \\\\campus\\\\jdoe');

/** Body of POST /users. Strict: a client cannot slip is_blocked or a hash into a new account. */
export const UserCreate = z
  .strictObject({
    username,
    password: newPassword(),
  })
  .meta({ id: 'UserCreate' });
export type UserCreate = z.infer<typeof UserCreate>;

/** Body of PATCH /users/{id}: blocking is the only change this story allows. */
export const UserUpdate = z.strictObject({ is_blocked: z.boolean() }).meta({ id: 'UserUpdate' });
export type UserUpdate = z.infer<typeof UserUpdate>;

/** What the API returns: never the password or its hash. */
export const UserPublic = z
  .object({
    id: z.string(),
    username: z.string(),
    is_blocked: z.boolean(),
    created_at: z.string().describe('ISO 8601 timestamp'),
    updated_at: z.string().describe('ISO 8601 timestamp, maintained by the database on every update'),
  })
  .meta({ id: 'UserPublic' });
export type UserPublic = z.infer<typeof UserPublic>;

const flag = z.enum(['true', 'false'], { message: 'must be true or false' }).transform((v) => v === 'true');

export const UserListQuery = offsetPageQuery({ defaultLimit: 20, maxLimit: 100 }).extend({
  blocked: flag.optional(),
});
export type UserListQuery = z.infer<typeof UserListQuery>;

export const UserList = offsetPage(UserPublic).meta({ id: 'UserList' });

/** Timestamps arrive as PostgreSQL text (`2025-12-20 12:34:56.123456+00`); the API speaks ISO 8601. */
export function toUserPublic(row: {
  id: string;
  username: string;
  isBlocked: boolean;
  createdAt: string;
  updatedAt: string;
}): UserPublic {
  return {
    id: row.id,
    username: row.username,
    is_blocked: row.isBlocked,
    created_at: isoTimestamp(row.createdAt),
    updated_at: isoTimestamp(row.updatedAt),
  };
}
