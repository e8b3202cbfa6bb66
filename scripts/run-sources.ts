/**
 * `node --import ./scripts/run-sources.ts …`: in this repository, `groundwork-pg` and its subpaths resolve to
 * the package's TypeScript sources instead of its build, so the CLI, the apps and the library load as one
 * copy from source (`npm run dev`, `npm run fuzz`). The published package knows nothing of it: its exports
 * point only at the shipped `dist/`. Each export's `src/` file is its `dist/` file's source.
 */
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const PACKAGE = join(import.meta.dirname, '..', 'packages', 'groundwork');
const { name, exports } = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { import?: string }>;
};

const sources = new Map<string, string>();
for (const [subpath, target] of Object.entries(exports)) {
  const built = typeof target === 'string' ? target : target.import;
  if (!built?.startsWith('./dist/') || !built.endsWith('.js')) continue;
  const source = `./src/${built.slice('./dist/'.length, -'.js'.length)}.ts`;
  sources.set(
    subpath === '.' ? name : `${name}/${subpath.slice(2)}`,
    pathToFileURL(join(PACKAGE, source)).href,
  );
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const url = sources.get(specifier);
    return url ? { url, format: 'module-typescript', shortCircuit: true } : nextResolve(specifier, context);
  },
});
