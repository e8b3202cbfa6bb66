/**
 * Pins src/adapters/drizzle-kit-pull.ts to the installed drizzle-kit: its `pull` is run on an embedded
 * database holding each shape the adapter fixes, and what it wrote is compared as text. When a drizzle-kit
 * upgrade writes one differently (or stops getting it wrong), this file fails and names it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { drizzleKitPull, fixPulledSchema } from '../../src/adapters/drizzle-kit-pull.ts';
import { DRIZZLE_KIT_VERSION } from '../../src/adapters/drizzle-kit-sql.ts';
import { openCluster } from '../../src/database/pglite-cluster.ts';
import { dataDir, removeTempFolders } from '../support/harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let pulled: string;

beforeAll(async () => {
  const dir = await dataDir();
  const pglite = await openCluster(dir, {});
  await pglite.exec(`
    create table events (id bigint generated always as identity primary key, label varchar(20) not null default '',
      code text check (code ~ '^\\d+$'), at timestamptz not null, owner uuid not null);
    create index events_at_owner on events (at desc, owner);
    create table alembic_version (version_num varchar(32) primary key);`);
  await pglite.close();
  pulled = await drizzleKitPull({ dataDir: dir, schemas: ['public'], excludeTables: ['alembic_version'] });
});

afterAll(removeTempFolders);

describe(`drizzle-kit ${DRIZZLE_KIT_VERSION} pull`, () => {
  it('is the version the adapter was written for', () => {
    const require = createRequire(import.meta.url);
    const manifest = join(dirname(require.resolve('drizzle-kit/api')), 'package.json');
    expect((JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version).toBe(
      DRIZZLE_KIT_VERSION,
    );
  });

  it('leaves out the tables tablesFilter excludes', () => {
    expect(pulled).toContain('pgTable("events"');
    expect(pulled).not.toContain('alembic_version');
  });

  it("writes a bigint identity's maxValue as a number, which the fix drops", () => {
    expect(pulled).toContain('maxValue: 9223372036854775807');
    expect(fixPulledSchema(pulled, new Map())).not.toContain('maxValue');
  });

  it("writes an empty string default as .default('), which the fix quotes", () => {
    expect(pulled).toContain(`label: varchar({ length: 20 }).default(').notNull()`);
    expect(fixPulledSchema(pulled, new Map())).toContain(".default('').notNull()");
  });

  it('copies SQL into sql`...` without escaping backslashes, which the fix escapes', () => {
    expect(pulled).toContain('check("events_code_check", sql`code ~ \'^\\d+$\'::text`)');
    expect(fixPulledSchema(pulled, new Map())).toContain("sql`code ~ '^\\\\d+$'::text`");
  });

  it("gives every column of an index the first one's operator class, which the fix replaces", () => {
    const line = /index\("events_at_owner"\)[^\n]*/.exec(pulled)![0];
    expect(line).toBe(
      'index("events_at_owner").using("btree", table.at.desc().nullsFirst().op("timestamptz_ops"), table.owner.asc().nullsLast().op("timestamptz_ops")),',
    );
    const fixed = fixPulledSchema(pulled, new Map([['events_at_owner', [undefined, 'uuid_ops']]]));
    expect(fixed).toContain(
      'index("events_at_owner").using("btree", table.at.desc().nullsFirst(), table.owner.asc().nullsLast().op("uuid_ops"))',
    );
  });
});
