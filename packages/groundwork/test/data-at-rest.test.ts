import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config.ts';
import { dropDatabase, ensureDatabase } from '../src/database/admin.ts';
import { backupDatabase, restoreDatabase } from '../src/database/backup.ts';
import { openDatabase } from '../src/database/open.ts';
import { withDatabase } from '../src/database/urls.ts';
import { DataDirectoryError, restrictToOwner } from '../src/private-directory.ts';

const work = mkdtempSync(join(tmpdir(), 'gw-at-rest-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** Every path under `dir` (itself included) that group or others can reach, with its mode. */
function exposed(dir: string): string[] {
  const paths = [dir, ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => join(dir, p))];
  return paths.filter((p) => modeOf(p) & 0o077).map((p) => `${p} ${modeOf(p).toString(8)}`);
}

function embeddedSettings(root: string) {
  return loadSettings({ appName: 'vault', readDotenv: false, env: { NODE_ENV: 'test' }, dataRoot: root });
}

async function writeRows(settings: ReturnType<typeof embeddedSettings>): Promise<void> {
  const handle = await openDatabase(settings, { schema: {} });
  const session = await handle.session();
  await session.query('create table if not exists secrets (id serial primary key, hash text)');
  await session.query('insert into secrets (hash) values ($1)', ['$argon2id$v=19$fake']);
  await session.release();
  await handle.close();
}

// Each test creates PGlite data directories: seconds of CPU each, many more on a loaded machine.
describe('embedded data at rest', { timeout: 120_000 }, () => {
  it('creates .data/ and the data directory 0700 and leaves no file reachable by group or others', async () => {
    const root = mkdtempSync(join(work, 'root-'));
    const settings = embeddedSettings(root);
    await writeRows(settings);
    expect(modeOf(join(root, '.data'))).toBe(0o700);
    expect(modeOf(settings.dataDir)).toBe(0o700);
    expect(exposed(settings.dataDir)).toEqual([]);
  });

  it('leaves nothing PGlite wrote while opening reachable, before the close makes all private again', async () => {
    const root = mkdtempSync(join(work, 'root-'));
    const settings = embeddedSettings(root);
    // The first open copies a whole cluster in; the second opens it warm.
    for (let open = 0; open < 2; open++) {
      const handle = await openDatabase(settings, { schema: {} });
      expect(exposed(settings.dataDir)).toEqual([]);
      await handle.close();
    }
  });

  it('restricts, since a given time, what was created or renamed into a folder, in new folders too', () => {
    const dir = mkdtempSync(join(work, 'walk-'));
    mkdirSync(join(dir, 'old'));
    const since = Date.now() - 1000;
    const untouched = join(dir, 'old', 'before');
    writeFileSync(untouched, '', { mode: 0o644 });
    // A folder nothing was added to since: its entries are the full walk's.
    const before = new Date(since - 60_000);
    utimesSync(join(dir, 'old'), before, before);
    mkdirSync(join(dir, 'new', 'deeper'), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'new', 'deeper', 'file'), '', { mode: 0o666 });
    writeFileSync(join(dir, 'top'), '', { mode: 0o644 });
    restrictToOwner(dir, { changedSince: since });
    expect(exposed(dir)).toEqual([`${untouched} 644`]);
    restrictToOwner(dir);
    expect(exposed(dir)).toEqual([]);
  });

  it('refuses to open a data directory group or others can reach, naming the chmod that fixes it', async () => {
    const root = mkdtempSync(join(work, 'root-'));
    const settings = embeddedSettings(root);
    await writeRows(settings);
    chmodSync(settings.dataDir, 0o755);
    const error = await openDatabase(settings, { schema: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirectoryError);
    expect((error as Error).message).toContain(`chmod -R go-rwx '${settings.dataDir}'`);
    expect(modeOf(settings.dataDir)).toBe(0o755);
    chmodSync(settings.dataDir, 0o700);
    await writeRows(settings);
  });

  it('writes embedded backups 0600 and restores into a private directory', async () => {
    const root = mkdtempSync(join(work, 'root-'));
    const settings = embeddedSettings(root);
    await writeRows(settings);
    const file = join(work, 'embedded.tar.gz');
    await backupDatabase(settings, file);
    expect(modeOf(file)).toBe(0o600);
    await restoreDatabase(settings, file);
    expect(exposed(settings.dataDir)).toEqual([]);
  });
});

describe('server backups at rest', () => {
  it('hands pg_dump a file that is already 0600', async () => {
    // A stand-in pg_dump records the mode of the file it is told to write, then writes it.
    const bin = mkdtempSync(join(work, 'bin-'));
    writeFileSync(
      join(bin, 'pg_dump'),
      `#!/bin/sh\nfor a in "$@"; do case "$a" in --file=*) f="\${a#--file=}";; esac; done\n` +
        `stat -c %a "$f" > "${bin}/mode" 2>/dev/null || echo missing > "${bin}/mode"\necho dump > "$f"\n`,
    );
    chmodSync(join(bin, 'pg_dump'), 0o755);
    const file = join(work, 'server.dump');
    await backupDatabase({ databaseUrl: 'postgres://app@db.invalid/app', dataDir: '' }, file, {
      binDir: bin,
    });
    expect(readFileSync(join(bin, 'mode'), 'utf8').trim()).toBe('600');
    expect(modeOf(file)).toBe(0o600);
  });

  it.runIf(process.env.TEST_DATABASE_URL)('writes a real pg_dump backup 0600', async () => {
    const adminUrl = process.env.TEST_DATABASE_URL!;
    const name = `gwt_at_rest_${process.pid}`;
    await ensureDatabase(adminUrl, name);
    try {
      const file = join(work, 'real.dump');
      await backupDatabase({ databaseUrl: withDatabase(adminUrl, name), dataDir: '' }, file);
      expect(modeOf(file)).toBe(0o600);
    } finally {
      await dropDatabase(adminUrl, name);
    }
  });
});
