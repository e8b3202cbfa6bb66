import { offsetPage, offsetPageQuery, safeText } from 'groundwork-pg';
import { z } from 'zod';
import { DISPLAY_NAME_MAX, EMAIL_MAX, type UserRow } from '../schema.ts';

/** The zod family of a user: the database's limits repeated, so a client gets a 400 naming the field. */
export const Email = safeText()
  .trim()
  .toLowerCase()
  .max(EMAIL_MAX)
  .pipe(z.email('email must be a valid email address'));
export const DisplayName = safeText().trim().min(1).max(DISPLAY_NAME_MAX);

// Ids name the OpenAPI components, so generated clients get named types.
export const UserCreate = z
  .strictObject({
    subject: safeText().min(1).max(255),
    email: Email,
    display_name: DisplayName,
  })
  .meta({ id: 'UserCreate' });
export const UserUpdate = z.strictObject({ display_name: DisplayName }).meta({ id: 'UserUpdate' });
export const UserPublic = z
  .strictObject({
    id: z.uuid(),
    subject: z.string(),
    email: z.string(),
    display_name: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'UserPublic' });
export type UserPublic = z.infer<typeof UserPublic>;
export const UserListQuery = offsetPageQuery();
export const UserList = offsetPage(UserPublic).meta({ id: 'UserList' });

/** The only way a row leaves for a client: named `to` + the response schema it returns. */
export function toUserPublic(row: UserRow): UserPublic {
  return {
    id: row.id,
    subject: row.subject,
    email: row.email,
    display_name: row.displayName,
    created_at: row.createdAt.toISOString(),
  };
}
