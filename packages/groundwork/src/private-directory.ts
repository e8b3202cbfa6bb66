import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirectoryError extends Error {
  readonly code = 'GW_DATA_DIRECTORY';
}

/**
 * Creates an embedded data directory (and `.data/` above it when missing) 0700, or checks an existing one:
 * like PostgreSQL with PGDATA, one that group or others can reach is refused rather than silently fixed.
 */
export function createPrivateDirectory(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if (mode & 0o077) {
    throw new DataDirectoryError(
      `The embedded data directory ${dataDir} is accessible to group or others (mode ${mode.toString(8)}); ` +
        `it holds password hashes and secrets. Fix it with: chmod -R go-rwx '${dataDir}'`,
    );
  }
}

/**
 * PGlite creates its files 0666 whatever the umask, so they are made the owner's after it writes. Only those
 * that need it are changed: a cluster is many files, and on a warm start all are private already.
 *
 * With `changedSince` (a time in ms), only the entries of folders modified since then are looked at: a file
 * created or renamed into a folder changes that folder's mtime, so this finds every file written since, for
 * a stat per folder instead of one per file. Older files are the full walk's (at close, and wherever the
 * caller cannot say since when).
 */
export function restrictToOwner(dir: string, { changedSince }: { changedSince?: number } = {}): void {
  const entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  const changed = new Map<string, boolean>();
  const folderChanged = (folder: string): boolean => {
    let result = changed.get(folder);
    if (result === undefined) {
      result = changedSince === undefined || statSync(folder).mtimeMs >= changedSince;
      changed.set(folder, result);
    }
    return result;
  };
  for (const entry of entries) {
    if (!folderChanged(entry.parentPath)) continue;
    const path = join(entry.parentPath, entry.name);
    const mode = statSync(path).mode;
    if (mode & 0o077) chmodSync(path, mode & 0o700);
  }
  chmodSync(dir, 0o700);
}

/** Writes `bytes` to `path` readable by the owner only, aside and renamed: a reader sees all of it or none. */
export function writePrivateFile(path: string, bytes: Uint8Array): void {
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
  writeFileSync(partial, bytes, { mode: 0o600 });
  renameSync(partial, path);
}
