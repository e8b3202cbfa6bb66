/**
 * Sample rows for a fresh database (`groundwork db seed`; `npm start` runs it on a new embedded database):
 * a user linked to Telegram who finished onboarding, one who has not linked it yet, and a deactivated one,
 * with no Gmail tokens (those are sealed under SECRET_KEYS and come from the OAuth flow). Rerunning adds
 * nothing (emails are unique).
 */
import { defineSeed } from 'groundwork-pg';
import * as schema from './schema.ts';

export default defineSeed<typeof schema>(async ({ db }) => {
  await db
    .insert(schema.users)
    .values([
      {
        email: 'ewa@mail-agent.example',
        telegramId: '700100200',
        telegramUsername: 'ewa_inbox',
        onboardingCompleted: true,
      },
      { email: 'piotr@mail-agent.example' },
      { email: 'left@mail-agent.example', isActive: false },
    ])
    .onConflictDoNothing();
});
