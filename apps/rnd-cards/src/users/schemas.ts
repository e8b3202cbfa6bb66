import { safeText } from 'groundwork-pg';
import { z } from 'zod';
import { iso, isoOrNull, JsonObject, Timestamp } from '../api.ts';
import type { UserRow } from '../schema.ts';

const text = (max: number) => safeText().trim().min(1).max(max);

export const UserCreate = z
  .object({
    email: safeText(z.email()).max(255),
    name: text(255),
    /** The Cognito subject the user signs in with. */
    cognitoSub: text(255),
    company: text(255).nullish(),
  })
  .meta({ id: 'UserCreate' });
export type UserCreate = z.infer<typeof UserCreate>;

/** What the API shows of a user: the Cognito subject stays on the row. */
export const UserPublic = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    company: z.string().nullable(),
    preferences: JsonObject,
    lastLoginAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'UserPublic' });
export type UserPublic = z.infer<typeof UserPublic>;

export const toUserPublic = (row: UserRow): UserPublic => ({
  id: row.id,
  email: row.email,
  name: row.name,
  company: row.company,
  preferences: row.preferences,
  lastLoginAt: isoOrNull(row.lastLoginAt),
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});
