import { setupTestApp } from 'groundwork-pg/testing';
import { describe, expect, it } from 'vitest';
import app from '../src/app.ts';
import seed, { SEED_PASSWORD } from '../src/seed.ts';

const t = setupTestApp(app);

const runSeed = () => t.db.transaction((db) => seed({ db, log: () => {} }));

describe('seed (src/seed.ts, run by npm start on a new embedded database)', () => {
  it('gives a newcomer an admin and two learners who can log in, and adds nothing when run again', async () => {
    await runSeed();
    await runSeed();
    const rows = await t.db.query.users.findMany({ columns: { email: true, isAdmin: true } });
    expect(rows.sort((a, b) => a.email.localeCompare(b.email))).toEqual([
      { email: 'admin@learnr.example', isAdmin: true },
      { email: 'ola@learnr.example', isAdmin: false },
      { email: 'tom@learnr.example', isAdmin: false },
    ]);
    const login = await t.server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ola@learnr.example', password: SEED_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
  });
});
