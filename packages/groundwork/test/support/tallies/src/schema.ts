import { sql } from 'drizzle-orm';
import { bigint, bigserial, integer, pgSequence, pgTable, text } from 'drizzle-orm/pg-core';

/** Every kind of sequence a reset must restore: an identity, a serial and a free-standing one. */
export const ticketNumbers = pgSequence('ticket_numbers');

export const counters = pgTable('counters', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  label: text('label').notNull().unique(),
});

export const ticks = pgTable('ticks', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  counterId: integer('counter_id')
    .notNull()
    .references(() => counters.id),
  ticket: bigint('ticket', { mode: 'number' }).notNull().default(sql`nextval('ticket_numbers')`),
});
