import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptySnapshot, type Snapshot } from './diff.ts';

export const STATEMENT_BREAKPOINT = '--> statement-breakpoint';
/** The placeholder line of `revision --empty`: still there with no statement means nobody wrote the migration. */
export const EMPTY_TEMPLATE = 'Hand-written migration';
const NO_TRANSACTION = /^--\s*groundwork:no-transaction\s*$/i;
/**
 * `-- groundwork:allow <rule> <reason>` on a line of its own: a lint annotation (groups: the rule, the
 * reason; either may be empty, which is for the linter to refuse). Such lines are left out of the checksums,
 * so annotating an applied migration is not an edit.
 */
export const ALLOW_ANNOTATION = /^[ \t]*--[ \t]*groundwork:allow\b[ \t]*(\S*)[ \t]*(.*?)[ \t]*$/i;
const IRREVERSIBLE = /^--\s*irreversible:\s*(.*)$/i;
const FOLDER_NAME = /^(\d{14})_([a-z0-9_]+)$/;

export interface MigrationScript {
  file: string;
  text: string;
  statements: string[];
  noTransaction: boolean;
}

export interface Migration {
  id: string;
  name: string;
  /** First comment line of up.sql: the message given to `revision -m`. */
  message: string;
  dir: string;
  up: MigrationScript;
  /** Missing file: undefined. */
  down: MigrationScript | undefined;
  /** Why the migration cannot be reversed, when down.sql says so. */
  irreversible: string | undefined;
  /** checksumOf(up.sql), recorded when the migration is applied. */
  checksum: string;
  /** checksumOf(down.sql); undefined without one. */
  downChecksum: string | undefined;
  snapshotFile: string;
  /**
   * A squashed migration's originals (replaces.json), oldest first, with the up.sql checksum each had: a
   * database that applied all of them has applied this one.
   */
  replaces: ReplacedMigration[];
}

export interface ReplacedMigration {
  id: string;
  checksum: string;
}

export const REPLACES_FILE = 'replaces.json';

export class MigrationFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationFolderError';
  }
}

/** sha256 of a script with LF line ends and without its `-- groundwork:allow` lines. */
export function checksumOf(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  return createHash('sha256')
    .update(lines.filter((line) => !ALLOW_ANNOTATION.test(line)).join('\n'))
    .digest('hex');
}

/** Leading `--` comment lines: where markers and the message live. */
function headerLines(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--') || trimmed === STATEMENT_BREAKPOINT) break;
    lines.push(trimmed);
  }
  return lines;
}

/** Splits on breakpoint lines and drops chunks that hold only comments. */
export function splitStatements(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/^\s*--> statement-breakpoint\s*$/m)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('--')));
}

function readScript(file: string): MigrationScript {
  const text = readFileSync(file, 'utf8');
  return {
    file,
    text,
    statements: splitStatements(text),
    noTransaction: headerLines(text).some((line) => NO_TRANSACTION.test(line)),
  };
}

function readReplaces(file: string): ReplacedMigration[] {
  if (!existsSync(file)) return [];
  try {
    const { replaces } = JSON.parse(readFileSync(file, 'utf8')) as { replaces: ReplacedMigration[] };
    if (
      !Array.isArray(replaces) ||
      !replaces.every((r) => /^\d{14}$/.test(r.id) && /^[0-9a-f]{64}$/.test(r.checksum))
    )
      throw new Error('expected {"replaces": [{"id": "<yyyyMMddHHmmss>", "checksum": "<sha256>"}, ...]}');
    return replaces;
  } catch (error) {
    throw new MigrationFolderError(
      `${file} is not valid (${(error as Error).message}); restore it from version control`,
    );
  }
}

/**
 * Every migration in `dir`, oldest first. A malformed folder is an error naming it, and so is a missing one
 * (a wrong path must not read as "nothing to do"), unless the caller is about to create it.
 */
export function readMigrations(dir: string, options: { mayBeMissing?: boolean } = {}): Migration[] {
  if (!existsSync(dir)) {
    if (options.mayBeMissing) return [];
    throw new MigrationFolderError(
      `The migrations folder ${dir} does not exist: check the app's dir in defineApp, or create the first ` +
        'migration with `groundwork db revision -m "..."`',
    );
  }
  const migrations: Migration[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const match = FOLDER_NAME.exec(entry.name);
    const path = join(dir, entry.name);
    if (!match) {
      throw new MigrationFolderError(
        `${path}: folder name must be <yyyyMMddHHmmss>_<slug> (lowercase letters, digits, _); rename it`,
      );
    }
    const upFile = join(path, 'up.sql');
    if (!existsSync(upFile))
      throw new MigrationFolderError(`${upFile} is missing; every migration needs up.sql`);
    const up = readScript(upFile);
    const downFile = join(path, 'down.sql');
    const down = existsSync(downFile) ? readScript(downFile) : undefined;
    const irreversibleLine = down && headerLines(down.text).find((line) => IRREVERSIBLE.test(line));
    const message = headerLines(up.text)[0]?.replace(/^--\s*/, '') ?? match[2]!;
    migrations.push({
      id: match[1]!,
      name: entry.name,
      message,
      dir: path,
      up,
      down,
      irreversible: irreversibleLine
        ? IRREVERSIBLE.exec(irreversibleLine)![1]!.trim() || 'no reason given'
        : undefined,
      checksum: checksumOf(up.text),
      downChecksum: down && checksumOf(down.text),
      snapshotFile: join(path, 'snapshot.json'),
      replaces: readReplaces(join(path, REPLACES_FILE)),
    });
  }
  migrations.sort((a, b) => a.id.localeCompare(b.id));
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.id === migrations[i - 1]!.id) {
      throw new MigrationFolderError(
        `${migrations[i]!.dir} and ${migrations[i - 1]!.dir} share the id ${migrations[i]!.id}; give one a new timestamp`,
      );
    }
  }
  return migrations;
}

/** The schema as of the newest migration that carries a snapshot (empty before the first). */
export function latestSnapshot(migrations: Migration[]): Snapshot {
  for (const migration of [...migrations].reverse()) {
    const snapshot = readSnapshot(migration);
    if (snapshot) return snapshot;
  }
  return emptySnapshot();
}

/** A migration's snapshot.json; undefined when it has none. */
export function readSnapshot(migration: Migration): Snapshot | undefined {
  if (!existsSync(migration.snapshotFile)) return undefined;
  try {
    return JSON.parse(readFileSync(migration.snapshotFile, 'utf8')) as Snapshot;
  } catch (error) {
    throw new MigrationFolderError(
      `${migration.snapshotFile} is not valid JSON (${(error as Error).message}); restore it from version control`,
    );
  }
}

export function slugify(message: string): string {
  const slug = message
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
  return slug || 'migration';
}

/** A yyyyMMddHHmmss id (UTC) later than every existing one. */
export function nextId(existing: Migration[], now = new Date()): string {
  let id = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const last = existing.at(-1)?.id;
  if (last && id <= last) id = String(BigInt(last) + 1n);
  return id;
}

export interface NewMigrationFiles {
  up: string;
  down: string;
  snapshot: Snapshot;
  /** A squashed migration's originals. */
  replaces?: ReplacedMigration[];
}

/** Writes the three files into a temporary folder and renames it into place, so no half-written migration is left. */
export function writeMigration(dir: string, name: string, files: NewMigrationFiles): string {
  mkdirSync(dir, { recursive: true });
  const target = join(dir, name);
  const staging = join(dir, `.${name}.tmp`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    writeFileSync(join(staging, 'up.sql'), files.up);
    writeFileSync(join(staging, 'down.sql'), files.down);
    writeFileSync(join(staging, 'snapshot.json'), `${JSON.stringify(files.snapshot, null, 2)}\n`);
    if (files.replaces)
      writeFileSync(
        join(staging, REPLACES_FILE),
        `${JSON.stringify({ replaces: files.replaces }, null, 2)}\n`,
      );
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return target;
}
