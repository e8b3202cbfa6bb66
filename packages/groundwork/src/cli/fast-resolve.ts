import { readFileSync, realpathSync, statSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Node 22 and 24 parse a package's whole `exports` map again for every module they load from it (the
 * package scope lookup spreads a lazily parsed object). drizzle-orm's map is 175 KB and it loads ~450
 * modules: ~1 s of CPU on every CLI start, against ~0.15 s on Node 20 (measured in docs/architecture.md).
 * This hook answers the one case that costs, a relative `.js` import inside an installed ESM package, the
 * way Node's own resolver would (the file, its real path, format `module`), and leaves every other
 * specifier to Node.
 */
export function registerFastResolve(): void {
  const typeByDir = new Map<string, string>();

  const packageType = (start: string): string => {
    const visited: string[] = [];
    let type = 'commonjs';
    for (let dir = start; ; dir = dirname(dir)) {
      const known = typeByDir.get(dir);
      if (known) {
        type = known;
        break;
      }
      visited.push(dir);
      const manifest = join(dir, 'package.json');
      if (statSync(manifest, { throwIfNoEntry: false })?.isFile()) {
        type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type ?? 'commonjs';
        break;
      }
      if (dirname(dir) === dir) break;
    }
    for (const dir of visited) typeByDir.set(dir, type);
    return type;
  };

  registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (
        parent?.startsWith('file:') &&
        (specifier.startsWith('./') || specifier.startsWith('../')) &&
        specifier.endsWith('.js') &&
        parent.includes('/node_modules/')
      ) {
        const path = fileURLToPath(new URL(specifier, parent));
        if (statSync(path, { throwIfNoEntry: false })?.isFile()) {
          const real = realpathSync(path);
          if (packageType(dirname(real)) === 'module') {
            return { url: pathToFileURL(real).href, format: 'module', shortCircuit: true };
          }
        }
      }
      return nextResolve(specifier, context);
    },
  });
}
