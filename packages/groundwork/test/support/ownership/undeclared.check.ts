import { describeOwnership, setupTestApp } from '../../../src/testing/index.ts';
import badges from '../badges/src/app.ts';
import { badgesFixtures } from './badges-fixtures.ts';

/** The badges app plus one route that declares no `auth`: describeOwnership must fail on it. */
const t = setupTestApp(
  {
    ...badges,
    routes: async (app, context) => {
      await badges.routes(app, context);
      app.get('/undeclared', async () => ({ ok: true }));
    },
  },
  { credentials: true },
);
const fixtures = badgesFixtures(t);
describeOwnership(t, {
  ...fixtures,
  requests: { ...fixtures.requests, 'GET /undeclared': () => ({ url: '/undeclared' }) },
});
