/**
 * Sample rows for a fresh database (`groundwork db seed`; `npm start` runs it on a new embedded database):
 * an admin and two learners, one onboarded for an exam in spring, one who has only signed up. Each can log
 * in with the password "seed-password-1"; rerunning adds nothing (emails are unique in lower case).
 */
import { defineSeed, hashPassword } from 'groundwork-pg';
import * as schema from './schema.ts';

export const SEED_PASSWORD = 'seed-password-1';

export default defineSeed<typeof schema>(async ({ db }) => {
  const hashedPassword = await hashPassword(SEED_PASSWORD);
  await db
    .insert(schema.users)
    .values([
      { email: 'admin@learnr.example', hashedPassword, isAdmin: true },
      {
        email: 'ola@learnr.example',
        hashedPassword,
        examDate: '2027-05-14',
        targetScore: 85,
        dailyStudyTime: 45,
        knowledgeLevel: 'Intermediate',
        motivation: 'Pass the certification before the new job starts',
        referralSource: 'Friend',
        darkMode: 'dark',
      },
      { email: 'tom@learnr.example', hashedPassword },
    ])
    .onConflictDoNothing();
});
