import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';

/**
 * PGlite's own parameters (`startParams` replaces them) with a smaller buffer pool. Its default 128 MB of
 * shared_buffers is touched as the instance starts: ~190 MB of RSS per app, five apps over 1 GB. 16 MB holds a
 * development database; measured ~65 MB per instance, and five instances open in ~1.6 s instead of ~2.8 s.
 */
export const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * A stopped fresh cluster, while a creation waits for it or copies it. initdb costs 1.5-3 s of CPU per cluster,
 * copying its result (40 MB, mostly the first WAL segment) under 0.1 s, so clusters created together (the
 * first `npm start`: five apps) share one initdb. Removed once the last of them has copied it.
 */
let shared: { template: Promise<string>; users: number } | undefined;

async function freshTemplate(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'groundwork-cluster-'));
  try {
    await (await PGlite.create(folder, { startParams: START_PARAMS })).close();
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
    cpSync(await current.template, dataDir, { recursive: true });
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
  return PGlite.create(dataDir, { extensions, startParams: START_PARAMS });
}
