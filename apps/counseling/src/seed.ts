/**
 * Sample rows for a fresh database (`groundwork db seed`; `npm start` runs it on a new embedded database):
 * the counselling office's Windows accounts, one of them blocked. Each can log in with the password
 * "seed-password-1"; rerunning adds nothing (usernames are unique in lower case).
 */
import { defineSeed, hashPassword } from 'groundwork-pg';
import * as schema from './schema.ts';

export const SEED_PASSWORD = 'seed-password-1';

export default defineSeed<typeof schema>(async ({ db }) => {
  const passwordHash = await hashPassword(SEED_PASSWORD);
  await db
    .insert(schema.users)
    .values([
      { username: '\\CAMPUS\\m.kowalska', passwordHash },
      { username: '\\CAMPUS\\j.nowak', passwordHash },
      { username: '\\CAMPUS\\former.intern', passwordHash, isBlocked: true },
    ])
    .onConflictDoNothing();
});
