import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';
import { pgliteRuntime } from './pglite-runtime.ts';

/**
 * A stopped fresh cluster, while a creation waits for it or copies it. initdb costs 2-5 s per cluster here,
 * copying its result (40 MB in ~1,000 files) 0.3-1 s, so clusters created together (the first `npm start`:
 * five apps) share one initdb. Removed once the last of them has copied it.
 */
let shared: { template: Promise<string>; users: number } | undefined;

async function freshTemplate(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'groundwork-cluster-'));
  try {
    await (await PGlite.create(folder, await pgliteRuntime())).close();
    return folder;
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

async function copyFreshCluster(dataDir: string): Promise<void> {
  shared ??= { template: freshTemplate(), users: 0 };
  const current = shared;
  current.users++;
  try {
    const template = await current.template;
    // PG_VERSION last: it marks a cluster as there, so a copy cut short is redone at the next start.
    // Asynchronous: creating its ~1,000 files is kernel time (0.3-1 s here), which the other apps' copies
    // and starts overlap instead of waiting behind.
    await cp(template, dataDir, {
      recursive: true,
      filter: (source) => source !== join(template, 'PG_VERSION'),
    });
    await cp(join(template, 'PG_VERSION'), join(dataDir, 'PG_VERSION'));
  } finally {
    current.users--;
    if (current.users === 0) {
      if (shared === current) shared = undefined;
      const folder = await current.template.catch(() => undefined);
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  }
}

/** Opens the cluster in `dataDir`, first copying a fresh one there when it holds none. */
export async function openCluster(dataDir: string, extensions: Record<string, Extension>): Promise<PGlite> {
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await copyFreshCluster(dataDir);
  return PGlite.create(dataDir, { ...(await pgliteRuntime()), extensions });
}
