/**
 * `db baseline` and what schema.ts cannot express (issue 31), on PGlite (default) or the server: hand-kept
 * SQL for functions, triggers and comments; a refusal, with nothing written or recorded, when schema.ts lacks
 * a column the database has.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { describe, expect, it, vi } from 'vitest';
import { baseline } from '../src/adopt/baseline.ts';
import { unexpressedBy } from '../src/adopt/pull.ts';
import { checkDatabase, checkFolder } from '../src/migrations/check.ts';
import { readMigrations } from '../src/migrations/folder.ts';
import { copyMigrations, databasePerFile, query } from './support/harness.ts';

vi.setConfig({ testTimeout: 120_000 });

const shared = databasePerFile('gwt_baseline');

const LIVE = `
create table accounts (id serial primary key, name text not null, balance integer not null default 0);
create function accounts_touch() returns trigger language plpgsql as $$ begin new.name := trim(new.name); return new; end $$;
create trigger accounts_touch before insert or update on accounts for each row execute function accounts_touch();
comment on column accounts.balance is 'In cents';
insert into accounts (name, balance) values ('ops', 1200);`;

const accounts = pgTable('accounts', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  balance: integer('balance').notNull().default(0),
});

describe('db baseline', () => {
  it('keeps the function, trigger and comment as SQL, records the baseline, and check passes', async () => {
    await query(shared.handle, LIVE);
    const dir = join(copyMigrations(), '..', 'baseline');
    const extra = await unexpressedBy(shared.handle, shared.shadow, { accounts });
    expect(extra.unresolved).toEqual([]);
    expect(extra.objects.sort()).toEqual([
      'comment column accounts.balance',
      'function accounts_touch()',
      'trigger accounts.accounts_touch',
    ]);
    const result = await baseline(
      shared.handle,
      dir,
      { accounts },
      { shadow: shared.shadow, environment: 'test' },
    );
    expect(result.alembicRevision).toBeUndefined();
    expect(await checkFolder(dir, { accounts })).toEqual([]);
    expect(await checkDatabase(shared.handle, dir, shared.shadow)).toEqual([]);
    expect(await query(shared.handle, 'select name, balance from accounts')).toEqual([
      { name: 'ops', balance: 1200 },
    ]);
  });

  it('refuses when schema.ts lacks a column the database has: nothing written, nothing recorded', async () => {
    await query(shared.handle, `${LIVE}\nalter table accounts add column note text;`);
    const dir = join(copyMigrations(), '..', 'refused');
    await expect(
      baseline(shared.handle, dir, { accounts }, { shadow: shared.shadow, environment: 'test' }),
    ).rejects.toThrow(
      /nothing was written: [\s\S]*column accounts\.note: schema\.ts gives none, the live database has `text`/,
    );
    expect(existsSync(dir) ? readMigrations(dir) : []).toEqual([]);
    expect(await query(shared.handle, "select to_regclass('schema_migrations') as t")).toEqual([{ t: null }]);
  });
});
