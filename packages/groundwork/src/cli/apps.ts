import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppDefinition } from '../app.ts';
import { findRoot } from '../workspace.ts';
import { UsageError } from './output.ts';

const ENTRY = join('src', 'app.ts');
/** This package's own folder has a src/app.ts too (defineApp): it is never an app. */
const LIBRARY_ROOT = resolve(import.meta.dirname, '..', '..');

export function appDirs(root: string): string[] {
  const apps = join(root, 'apps');
  if (!existsSync(apps)) return [];
  return readdirSync(apps, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(apps, entry.name, ENTRY)))
    .map((entry) => join(apps, entry.name))
    .sort();
}

async function importApp(dir: string): Promise<AppDefinition> {
  let module: { default?: AppDefinition };
  try {
    module = (await import(pathToFileURL(join(dir, ENTRY)).href)) as { default?: AppDefinition };
  } catch (error) {
    throw new Error(`could not load ${join(dir, ENTRY)}: ${(error as Error).message}`, { cause: error });
  }
  if (!module.default?.name || !module.default.routes) {
    throw new UsageError(`${join(dir, ENTRY)} must export default defineApp({...})`);
  }
  return module.default;
}

/** The app folder containing `cwd`, if any. */
export function enclosingAppDir(cwd = process.cwd()): string | undefined {
  const root = findRoot(cwd);
  for (let dir = resolve(cwd); dir !== root && dirname(dir) !== dir; dir = dirname(dir)) {
    if (dir !== LIBRARY_ROOT && existsSync(join(dir, ENTRY))) return dir;
  }
  return undefined;
}

/** The folder of the app named (from anywhere in the repo) or, without a name, of the app we are in. */
function appDirOf(name: string | undefined, cwd: string): string | undefined {
  if (!name) return enclosingAppDir(cwd);
  const root = findRoot(cwd);
  return root ? appDirs(root).find((d) => d.endsWith(`/${name}`)) : undefined;
}

/** One app: by name (from anywhere in the repo) or the app whose folder we are in. */
export async function resolveApp(name: string | undefined, cwd = process.cwd()): Promise<AppDefinition> {
  const dir = appDirOf(name, cwd);
  if (dir) return importApp(dir);
  if (!name) throw new UsageError('Run this in an app folder, or name the app: --app <name>');
  const root = findRoot(cwd);
  const known = root
    ? appDirs(root)
        .map((d) => d.split('/').at(-1))
        .join(', ')
    : 'none';
  throw new UsageError(`Unknown app "${name}". Apps: ${known}`);
}

/**
 * The folders of the apps `serve [app]` serves, found without loading them: the app named or the one we are
 * in, else every app of the workspace. Empty where there is none (loading them then says why).
 */
export function servedAppDirs(name: string | undefined, cwd = process.cwd()): string[] {
  const dir = appDirOf(name, cwd);
  if (dir) return [dir];
  const root = findRoot(cwd);
  return name || !root ? [] : appDirs(root);
}

export async function resolveAllApps(cwd = process.cwd()): Promise<AppDefinition[]> {
  const root = findRoot(cwd);
  if (!root) throw new UsageError('No workspace root (package.json with "workspaces") above this folder.');
  const dirs = appDirs(root);
  if (dirs.length === 0)
    throw new UsageError(`No apps found in ${join(root, 'apps')} (each needs ${ENTRY}).`);
  return Promise.all(dirs.map(importApp));
}
