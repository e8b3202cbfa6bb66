import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { index, integer, pgEnum, pgTable, serial, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createRevision } from './src/migrations/revision.ts';

const dir = '/tmp/scratch-mig';
rmSync(dir, { recursive: true, force: true });
const users = pgTable('users', { id: serial('id').primaryKey(), name: text('name') });
const posts1 = pgTable('posts', {
  id: serial('id').primaryKey(),
  userId: integer('user_id'),
  title: text('title'),
  code: text('code'),
});
await createRevision(dir, { users, posts: posts1 }, { message: 'create', autogenerate: true });
const posts2 = pgTable(
  'posts',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').references(() => users.id),
    title: text('title').notNull(),
    code: text('code').unique(),
  },
  (t) => [index('posts_title_idx').on(t.title)],
);
const tags = pgTable(
  'tags',
  {
    id: serial('id').primaryKey(),
    postId: integer('post_id').references(() => posts2.id),
    label: text('label'),
  },
  (t) => [index().on(t.label)],
);
const r = await createRevision(
  dir,
  { users, posts: posts2, tags },
  { message: 'online things', autogenerate: true },
);
console.log(r.warnings, r.changes);
for (const d of r.dirs) {
  console.log('=====', d);
  console.log(readFileSync(join(d, 'up.sql'), 'utf8'));
  console.log('--- down');
  console.log(readFileSync(join(d, 'down.sql'), 'utf8'));
}
try {
  await createRevision(dir, { users, tags }, { message: 'drop posts', autogenerate: true });
} catch (e) {
  console.log(String(e.message));
}
