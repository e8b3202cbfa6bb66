import { describe, expect, it } from 'vitest';
import type { Database } from '../src/database/open.ts';
import { prepareQuery } from '../src/database/prepared.ts';
import { setupTestApp } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

const t = setupTestApp(notes);

/** A query whose prepare() records the name Drizzle would pass on to postgres.js. */
function recordingQuery() {
  const names: (string | undefined)[] = [];
  return { names, query: { prepare: (name?: string) => names.push(name) } };
}

describe('prepareQuery', () => {
  it('names the statement when the connection prepares, and leaves the name out when it does not', () => {
    const on = recordingQuery();
    prepareQuery({ $client: { options: { prepare: true } } } as unknown as Database, 'hot', on.query);
    const off = recordingQuery();
    // postgres.js with prepare: false (DB_PREPARE=false behind PgBouncer in transaction mode).
    prepareQuery({ $client: { options: { prepare: false } } } as unknown as Database, 'hot', off.query);
    expect(on.names).toEqual(['hot']);
    expect(off.names).toEqual([undefined]);
  });

  it("runs a prepared query with placeholders on this run's backend", async () => {
    const { eq, sql } = await import('drizzle-orm');
    const { authors } = await import('./support/notes/src/schema.ts');
    await t.db.insert(authors).values({ email: 'ann@example.com' });
    const byEmail = prepareQuery(
      t.db,
      'authors_by_email',
      t.db
        .select()
        .from(authors)
        .where(eq(authors.email, sql.placeholder('email'))),
    );
    expect(await byEmail.execute({ email: 'ann@example.com' })).toHaveLength(1);
    expect(await byEmail.execute({ email: 'bob@example.com' })).toHaveLength(0);
  });
});
