import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createServerTestDatabase, testBackend } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';

describe.skipIf(testBackend !== 'postgres')('server test databases (skipped on PGlite: no server)', () => {
  it("drops the app's obsolete templates and nothing else, and drops each test database it made", async () => {
    const sql = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe('drop database if exists gwt_notes_000000000000');
      await sql.unsafe('drop database if exists gwt_notes_0000000000x1');
      await sql.unsafe('create database gwt_notes_000000000000 is_template true');
      await sql.unsafe('create database gwt_notes_0000000000x1'); // same shape, not a template: not ours to drop
      const database = await createServerTestDatabase(notes);
      const name = database.settings.databaseUrl!.split('/').at(-1)!;
      const names = async () => (await sql`select datname from pg_database`).map((r) => r.datname as string);
      expect(await names()).toContain(name);
      expect(await names()).not.toContain('gwt_notes_000000000000');
      expect(await names()).toContain('gwt_notes_0000000000x1');
      await database.dispose();
      expect(await names()).not.toContain(name);
    } finally {
      await sql.unsafe('drop database if exists gwt_notes_0000000000x1');
      await sql.end();
    }
  });
});
