import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { backupCommand, restoreCommand } from '../src/cli/commands/backup.ts';
import { UsageError } from '../src/cli/output.ts';
import { dropDatabase, ensureDatabase } from '../src/database/admin.ts';
import {
  BackupError,
  backupDatabase,
  connectionEnvironment,
  restoreDatabase,
} from '../src/database/backup.ts';
import { withDatabase } from '../src/database/urls.ts';

const work = mkdtempSync(join(tmpdir(), 'gw-backup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** A stand-in for pg_dump/pg_restore that records what it was given, then exits with `exit`. */
function fakeClient(name: string, exit: number, stderr = ''): string {
  const dir = mkdtempSync(join(work, 'bin-'));
  const script = join(dir, name);
  writeFileSync(
    script,
    `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\nenv | grep '^PG' | sort > "${dir}/env"\n` +
      `${stderr ? `echo '${stderr}' >&2\n` : ''}for a in "$@"; do case "$a" in --file=*) echo dump > "\${a#--file=}";; esac; done\nexit ${exit}\n`,
  );
  chmodSync(script, 0o755);
  return dir;
}

describe('connectionEnvironment', () => {
  it('turns a URL into libpq variables, decoding user and password', () => {
    expect(
      connectionEnvironment('postgres://app%40x:p%40ss%2Fw@db.example:6543/learnr_dev?sslmode=require', 5000),
    ).toEqual({
      PGHOST: 'db.example',
      PGPORT: '6543',
      PGDATABASE: 'learnr_dev',
      PGUSER: 'app@x',
      PGPASSWORD: 'p@ss/w',
      PGSSLMODE: 'require',
      PGCONNECT_TIMEOUT: '5',
    });
  });

  it('fills libpq defaults the way the app driver does, and honours host/port query parameters', () => {
    expect(connectionEnvironment('postgresql:///?host=/var/run/postgresql&port=5433')).toEqual({
      PGHOST: '/var/run/postgresql',
      PGPORT: '5433',
      PGDATABASE: 'postgres',
      PGUSER: 'postgres',
    });
  });
});

describe('server backups through pg_dump / pg_restore', () => {
  const url = 'postgres://learnr:Sup3r%23secret@127.0.0.1:1/learnr_dev';

  it('passes the connection in the environment, never in the arguments', async () => {
    const bin = fakeClient('pg_dump', 0);
    const file = join(work, 'fake.dump');
    const result = await backupDatabase({ databaseUrl: url, dataDir: work }, file, { binDir: bin });
    expect(result).toMatchObject({ engine: 'postgres', file });
    const argv = readFileSync(join(bin, 'argv'), 'utf8');
    expect(argv).toContain('--format=custom');
    expect(argv).not.toMatch(/Sup3r|secret|127\.0\.0\.1|learnr_dev/);
    const env = readFileSync(join(bin, 'env'), 'utf8');
    expect(env).toContain('PGPASSWORD=Sup3r#secret');
    expect(env).toContain('PGDATABASE=learnr_dev');
  });

  it('restores with --clean --if-exists --no-owner in one transaction, the database named only by PGDATABASE', async () => {
    const bin = fakeClient('pg_restore', 0);
    const file = join(work, 'fake.dump');
    writeFileSync(file, 'dump');
    await restoreDatabase({ databaseUrl: url, dataDir: work }, file, { binDir: bin });
    const argv = readFileSync(join(bin, 'argv'), 'utf8').trim().split('\n');
    expect(argv).toEqual([
      '--clean',
      '--if-exists',
      '--no-owner',
      '--single-transaction',
      '--no-password',
      '--dbname=',
      file,
    ]);
  });

  it('redacts the password from the client error and leaves no partial file', async () => {
    const bin = fakeClient(
      'pg_dump',
      1,
      'FATAL: password Sup3r#secret for postgres://learnr:Sup3r%23secret@h/db',
    );
    const file = join(work, 'failed.dump');
    const error = await rejection(backupDatabase({ databaseUrl: url, dataDir: work }, file, { binDir: bin }));
    expect(error).toBeInstanceOf(BackupError);
    expect(error.message).toMatch(/pg_dump failed \(exit 1\)/);
    expect(error.message).not.toMatch(/Sup3r/);
    expect(existsSync(file)).toBe(false);
  });

  it('reports a real connection failure without the password', async () => {
    const error = await rejection(backupDatabase({ databaseUrl: url, dataDir: work }, join(work, 'x.dump')));
    expect(error.message).toMatch(/pg_dump failed/);
    expect(error.message).not.toMatch(/Sup3r/);
  });

  it('says when the client tools are missing', async () => {
    const error = await rejection(
      backupDatabase({ databaseUrl: url, dataDir: work }, join(work, 'y.dump'), {
        binDir: join(work, 'none'),
      }),
    );
    expect(error.message).toMatch(/pg_dump not found in .*none: install the PostgreSQL client tools/);
  });

  it('refuses a missing backup file before running anything', async () => {
    const error = await rejection(restoreDatabase({ databaseUrl: url, dataDir: work }, join(work, 'nope')));
    expect(error.message).toMatch(/does not exist/);
  });

  const adminUrl = process.env.TEST_DATABASE_URL;
  it.skipIf(!adminUrl)('backs up, changes data, restores and finds the original rows (server)', async () => {
    const name = `gw_backup_${process.pid}`;
    await ensureDatabase(adminUrl!, name);
    const databaseUrl = withDatabase(adminUrl!, name);
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`create table notes (id int primary key, body text not null)`;
      await sql`insert into notes values (1, 'kept'), (2, 'also kept')`;
      const file = join(work, 'server.dump');
      const backup = await backupDatabase({ databaseUrl, dataDir: work }, file);
      expect(backup.bytes).toBeGreaterThan(0);
      await sql`delete from notes where id = 1`;
      await sql`insert into notes values (3, 'after the backup')`;
      await restoreDatabase({ databaseUrl, dataDir: work }, file);
      expect(await sql`select id, body from notes order by id`).toEqual([
        { id: 1, body: 'kept' },
        { id: 2, body: 'also kept' },
      ]);
    } finally {
      await sql.end();
      await dropDatabase(adminUrl!, name);
    }
  });
});

describe('embedded backups of the PGlite data directory', () => {
  it('backs up, changes data, restores and finds the original rows; refuses while the database is open', async () => {
    const dataDir = join(work, 'embedded', 'app');
    const settings = { databaseUrl: undefined, dataDir };
    const file = join(work, 'embedded.tar.gz');
    mkdirSync(dataDir, { recursive: true });
    let db = await PGlite.create(dataDir);
    await db.exec(`create table notes (id int primary key, body text); insert into notes values (1, 'kept')`);
    // An open instance owns the directory: copying or replacing it underneath would corrupt it.
    expect((await rejection(backupDatabase(settings, file))).message).toMatch(/in use .*stop the app first/);
    await db.close();

    const backup = await backupDatabase(settings, file);
    expect(backup).toMatchObject({ engine: 'pglite', file });
    expect(readFileSync(file).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

    db = await PGlite.create(dataDir);
    await db.exec(`delete from notes; insert into notes values (2, 'after the backup')`);
    expect((await rejection(restoreDatabase(settings, file))).message).toMatch(/in use/);
    await db.close();

    await restoreDatabase(settings, file);
    db = await PGlite.create(dataDir);
    try {
      expect((await db.query('select id, body from notes')).rows).toEqual([{ id: 1, body: 'kept' }]);
    } finally {
      await db.close();
    }
  });

  it('refuses a file that is not a PGlite archive and leaves the data directory alone', async () => {
    const dataDir = join(work, 'embedded', 'untouched');
    const file = join(work, 'not-an-archive.dump');
    writeFileSync(file, 'PGDMP custom format');
    const error = await rejection(restoreDatabase({ databaseUrl: undefined, dataDir }, file));
    expect(error.message).toMatch(/not an embedded \(PGlite\) backup/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('says when there is no embedded database to back up', async () => {
    const error = await rejection(
      backupDatabase({ databaseUrl: undefined, dataDir: join(work, 'missing') }, join(work, 'z.tar.gz')),
    );
    expect(error.message).toMatch(/no embedded database at/);
  });
});

describe('backup and restore commands', () => {
  const out = { json: false, line: () => {}, result: () => {} };
  it('need exactly one file argument', async () => {
    for (const command of [backupCommand, restoreCommand]) {
      const error = await rejection(command.run({ values: {}, positionals: [] }, out));
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toBe(`usage: groundwork db ${command.name} <file> [--app <name>]`);
    }
  });
});
