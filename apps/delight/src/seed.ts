/**
 * Sample rows for a fresh database (`groundwork db seed`; `npm start` runs it on a new embedded database):
 * two Clerk users, one who finished onboarding with working hours and channels set, one who has not.
 * Rerunning adds nothing (Clerk ids and preference owners are unique).
 */
import { inArray } from 'drizzle-orm';
import { defineSeed } from 'groundwork-pg';
import * as schema from './schema.ts';

export default defineSeed<typeof schema>(async ({ db }) => {
  await db
    .insert(schema.users)
    .values([
      { clerkUserId: 'user_seed_ada', email: 'ada@delight.example', timezone: 'Europe/Warsaw' },
      { clerkUserId: 'user_seed_bo', email: 'bo@delight.example' },
    ])
    .onConflictDoNothing();
  // read back rather than RETURNING: a rerun inserts nothing and must not touch the rows either
  const ids = await db
    .select({ id: schema.users.id, clerkUserId: schema.users.clerkUserId })
    .from(schema.users)
    .where(inArray(schema.users.clerkUserId, ['user_seed_ada', 'user_seed_bo']));
  const idOf = (clerkUserId: string) => ids.find((row) => row.clerkUserId === clerkUserId)!.id;
  await db
    .insert(schema.userPreferences)
    .values([
      {
        userId: idOf('user_seed_ada'),
        customHours: { start: '09:00', end: '17:00', timezone: 'Europe/Warsaw' },
        theme: 'modern',
        communicationPreferences: { email: true, sms: false, in_app: true },
        onboardingCompleted: true,
      },
      { userId: idOf('user_seed_bo') },
    ])
    .onConflictDoNothing();
});
