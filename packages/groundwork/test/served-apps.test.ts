import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDirs, servedAppDirs } from '../src/cli/apps.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const apps = join(root, 'apps');

describe('the apps `serve` serves, found before any is loaded', () => {
  it('is every app from the repository root, the one named, or the one whose folder we are in', () => {
    expect(servedAppDirs(undefined, root)).toEqual(appDirs(root));
    expect(appDirs(root)).toContain(join(apps, 'learnr'));
    expect(servedAppDirs('learnr', root)).toEqual([join(apps, 'learnr')]);
    expect(servedAppDirs(undefined, join(apps, 'delight', 'src'))).toEqual([join(apps, 'delight')]);
  });

  it('is none for an unknown name (loading it then says which apps there are)', () => {
    expect(servedAppDirs('nope', root)).toEqual([]);
  });
});
