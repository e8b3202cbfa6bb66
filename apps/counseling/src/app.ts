import { defineApp } from 'groundwork';
import * as schema from './schema.ts';

export default defineApp({
  name: 'counseling',
  title: 'Counseling platform: users',
  description: 'User store of the counseling platform (story 002).',
  dir: new URL('..', import.meta.url).pathname,
  schema,
  routes: async (app) => {
    app.get('/ping', async () => ({ ok: true }));
  },
});
