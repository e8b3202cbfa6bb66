import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { markedPooled, type Settings } from '../config.ts';
import { createPrivateDirectory, restrictToOwner } from '../private-directory.ts';
import { redactSecrets } from '../redact.ts';

/**
 * Backup and restore for both engines.
 * Server: pg_dump (custom format) / pg_restore, with the connection handed over in PG* environment variables
 * so neither the URL nor the password appears in `ps` output, on the command line or in an error message.
 * Embedded: PGlite's own data-directory tarball. PGlite is one process per data directory, so the app must be
 * stopped for both; a live instance is detected by its postmaster.pid and refused.
 */

export type BackupSettings = Pick<Settings, 'databaseUrl' | 'dataDir'> &
  Partial<Pick<Settings, 'pool' | 'directUrl' | 'prepare'>>;

export interface BackupOptions {
  /** Folder holding pg_dump / pg_restore; default: found on PATH. Their version must be >= the server's. */
  binDir?: string;
}

export interface BackupResult {
  engine: 'pglite' | 'postgres';
  file: string;
  bytes: number;
  durationMs: number;
}

export class BackupError extends Error {
  readonly code = 'GW_BACKUP_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/** Writes a backup of the database `settings` point at to `file` (replaced atomically when it exists). */
export async function backupDatabase(
  settings: BackupSettings,
  file: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const started = performance.now();
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  // Written beside the target and renamed: an interrupted backup never looks like a complete one.
  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.partial`);
  try {
    // Backups hold password hashes: the file is the owner's from its creation (pg_dump keeps the mode).
    closeSync(openSync(partial, 'wx', 0o600));
    if (settings.databaseUrl) {
      await runClient(
        'pg_dump',
        ['--format=custom', '--no-password', `--file=${partial}`],
        settings,
        options,
      );
    } else {
      await dumpEmbedded(settings.dataDir, partial);
    }
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  return resultOf(settings, target, started);
}

/** What a backup or restore reports: the engine, the file (its size now) and the time since `started`. */
function resultOf(settings: BackupSettings, file: string, started: number): BackupResult {
  return {
    engine: settings.databaseUrl ? 'postgres' : 'pglite',
    file,
    bytes: statSync(file).size,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Replaces the database's contents with the backup in `file`.
 * Server: objects in the backup are dropped and recreated in one transaction (all or nothing); objects
 * created after the backup was taken are left alone. Embedded: the archive is loaded into a fresh data
 * directory, checked, and swapped in place of the old one, which is then deleted.
 */
export async function restoreDatabase(
  settings: BackupSettings,
  file: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const started = performance.now();
  const source = resolve(file);
  if (!existsSync(source)) throw new BackupError(`backup file ${source} does not exist`);
  if (settings.databaseUrl) {
    // An empty --dbname makes libpq take the database from PGDATABASE, like every other setting.
    await runClient(
      'pg_restore',
      ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--no-password', '--dbname=', source],
      settings,
      options,
    );
  } else {
    await loadEmbedded(settings.dataDir, source);
  }
  return resultOf(settings, source, started);
}

/** libpq environment for a postgres:// URL; nothing inherited from the caller's PG* variables. */
export function connectionEnvironment(url: string, connectTimeoutMs?: number): Record<string, string> {
  const parsed = new URL(url);
  const env: Record<string, string> = {
    PGHOST: parsed.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    PGPORT: parsed.port || '5432',
    PGDATABASE: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    PGUSER: decodeURIComponent(parsed.username) || 'postgres',
  };
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  if (connectTimeoutMs) env.PGCONNECT_TIMEOUT = String(Math.max(2, Math.ceil(connectTimeoutMs / 1000)));
  const params: Record<string, string> = {
    host: 'PGHOST',
    port: 'PGPORT',
    user: 'PGUSER',
    password: 'PGPASSWORD',
    dbname: 'PGDATABASE',
    sslmode: 'PGSSLMODE',
    sslrootcert: 'PGSSLROOTCERT',
    sslcert: 'PGSSLCERT',
    sslkey: 'PGSSLKEY',
    application_name: 'PGAPPNAME',
    connect_timeout: 'PGCONNECT_TIMEOUT',
    options: 'PGOPTIONS',
  };
  for (const [key, value] of parsed.searchParams) {
    const variable = params[key];
    if (variable) env[variable] = value;
  }
  return env;
}

/** Removes every form of the URL's password from text about to leave this module. */
function redactor(url: string): (text: string) => string {
  const { password } = new URL(url);
  const forms = [password, password && decodeURIComponent(password)].filter((f): f is string => Boolean(f));
  return (text) => redactSecrets(forms.reduce((out, form) => out.split(form).join('***'), text));
}

async function runClient(
  program: 'pg_dump' | 'pg_restore',
  args: string[],
  settings: BackupSettings,
  options: BackupOptions,
): Promise<void> {
  // pg_dump and pg_restore set session settings (search_path) before their transaction: no pooler.
  const url = settings.directUrl ?? settings.databaseUrl!;
  if (!settings.directUrl && (markedPooled(url) || settings.prepare === false)) {
    throw new BackupError(
      `${program} needs a session of its own, which a transaction pooler (DATABASE_URL with ?pgbouncer=true or ` +
        'DB_PREPARE=false) does not keep: set DIRECT_DATABASE_URL to a connection straight to the server.',
    );
  }
  const redact = redactor(url);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
  const env = { ...inherited, ...connectionEnvironment(url, settings.pool?.connectTimeoutMs) };
  const command = options.binDir ? join(options.binDir, program) : program;
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done, fail) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      // Bounded: a failing restore can print one line per object.
      if (stderr.length < 16_384) stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      fail(
        new BackupError(
          error.code === 'ENOENT'
            ? `${program} not found${options.binDir ? ` in ${options.binDir}` : ' on PATH'}: install the PostgreSQL client tools (same major version as the server or newer)`
            : `${program} could not start: ${redact(error.message)}`,
        ),
      );
    });
    child.on('close', (exitCode) => done({ code: exitCode, stderr }));
  });
  if (code !== 0) {
    const detail = redact(stderr.trim()).split('\n').slice(0, 20).join('\n');
    throw new BackupError(`${program} failed (exit ${code})${detail ? `: ${detail}` : ''}`);
  }
}

/** PGlite keeps postmaster.pid while an instance has the directory open. */
function assertNotInUse(dataDir: string): void {
  if (existsSync(join(dataDir, 'postmaster.pid'))) {
    throw new BackupError(
      `the embedded database at ${dataDir} is in use (postmaster.pid exists): stop the app first. ` +
        'If no process has it open (a crash left the file behind), delete postmaster.pid and retry.',
    );
  }
}

async function dumpEmbedded(dataDir: string, file: string): Promise<void> {
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new BackupError(`no embedded database at ${dataDir} (start the app once, or set DATA_DIR)`);
  }
  assertNotInUse(dataDir);
  const [{ PGlite }, { pgliteRuntime }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('./pglite-runtime.ts'),
  ]);
  const pglite = await PGlite.create(dataDir, await pgliteRuntime());
  try {
    const archive = await pglite.dumpDataDir('gzip');
    writeFileSync(file, Buffer.from(await archive.arrayBuffer()));
  } finally {
    await pglite.close();
    restrictToOwner(dataDir);
  }
}

async function loadEmbedded(dataDir: string, file: string): Promise<void> {
  const archive = readFileSync(file);
  // gzip magic: refuse a pg_dump file or anything else before touching the data directory.
  if (archive[0] !== 0x1f || archive[1] !== 0x8b) {
    throw new BackupError(`${file} is not an embedded (PGlite) backup: expected a gzipped data directory`);
  }
  if (existsSync(dataDir)) assertNotInUse(dataDir);
  const suffix = `${Date.now()}-${randomBytes(3).toString('hex')}`;
  const fresh = `${dataDir}.restoring-${suffix}`;
  const previous = `${dataDir}.before-restore-${suffix}`;
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o700 });
  try {
    // Loading and querying the copy proves the archive is a working database before anything is replaced.
    createPrivateDirectory(fresh);
    const [{ PGlite }, { pgliteRuntime }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('./pglite-runtime.ts'),
    ]);
    const pglite = await PGlite.create(fresh, {
      ...(await pgliteRuntime()),
      loadDataDir: new Blob([archive]),
    });
    try {
      await pglite.query('select 1');
    } finally {
      await pglite.close();
      restrictToOwner(fresh);
    }
  } catch (error) {
    rmSync(fresh, { recursive: true, force: true });
    throw new BackupError(
      `${file} could not be loaded as an embedded database: ${redactSecrets((error as Error).message)}`,
    );
  }
  // Two renames in one folder (so one filesystem): the old directory is only deleted once the new one is in
  // place, and a failed second rename puts the old one back.
  const hadPrevious = existsSync(dataDir);
  if (hadPrevious) renameSync(dataDir, previous);
  try {
    renameSync(fresh, dataDir);
  } catch (error) {
    if (hadPrevious) renameSync(previous, dataDir);
    rmSync(fresh, { recursive: true, force: true });
    throw error;
  }
  rmSync(previous, { recursive: true, force: true });
}
