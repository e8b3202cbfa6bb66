import { sql } from 'drizzle-orm';
import { check, integer, pgTable, text, uuid, varchar } from 'drizzle-orm/pg-core';

export const authors = pgTable('authors', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: varchar('email', { length: 255 }).notNull().unique(),
});

export const notes = pgTable(
  'notes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    authorId: uuid('author_id')
      .notNull()
      .references(() => authors.id),
    body: text('body').notNull(),
    stars: integer('stars').notNull().default(0),
  },
  (t) => [check('notes_stars_range', sql`${t.stars} between 0 and 5`)],
);
