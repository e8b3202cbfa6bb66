import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createPrivateDirectory } from './private-directory.ts';

/** Errors that say a folder cannot be made where asked (a read-only or missing home in a container). */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR']);

/** `$XDG_CACHE_HOME/groundwork` (0700), or the user's folder in the temporary directory when that cannot be made. */
export function cacheFolder(): string {
  const preferred = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'groundwork');
  try {
    createPrivateDirectory(preferred);
    return preferred;
  } catch (error) {
    if (!UNWRITABLE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    const fallback = join(tmpdir(), `groundwork-${userInfo().uid}`);
    createPrivateDirectory(fallback);
    return fallback;
  }
}
