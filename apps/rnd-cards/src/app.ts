import { defineApp } from 'groundwork';
import * as schema from './schema.ts';

export default defineApp({
  name: 'rnd-cards',
  title: 'R&D project cards',
  description: 'Users, batches and R&D project cards (story 004).',
  version: '1.0.0',
  dir: new URL('..', import.meta.url).pathname,
  schema,
  extensions: ['uuid-ossp'],
  routes: async () => {},
});
