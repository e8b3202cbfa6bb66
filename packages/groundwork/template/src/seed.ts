/**
 * Sample rows for a fresh database (`groundwork db seed`; `npm start` runs it on a new embedded database), so a
 * newcomer sees data. A fixed id and `on conflict do nothing`, so rerunning adds nothing.
 */
import { defineSeed } from 'groundwork-pg';
import * as schema from './schema.ts';

export default defineSeed<typeof schema>(async ({ db }) => {
  await db
    .insert(schema.users)
    .values({
      id: '5eed0000-0000-4000-8000-000000000001',
      subject: 'seed-subject-ada',
      email: 'ada@template-app.example',
      displayName: 'Ada Lovelace',
    })
    .onConflictDoNothing();
});
