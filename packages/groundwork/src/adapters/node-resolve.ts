import { readFileSync, realpathSync, statSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Relies on: Node's module customization hooks (`registerHooks`, synchronous, in process) and on what Node's
 * own resolver answers for a relative `.js` import inside an installed package whose nearest package.json
 * says `"type": "module"`: the file's real path as a URL, format `module`. This re-implements that one case.
 *
 * Why it is worth it: Node 22 and 24 parse a package's whole `exports` map again for every module they load
 * from it (the package scope lookup spreads a lazily parsed object). drizzle-orm's map is large and it loads
 * hundreds of modules, so every CLI start paid for it in CPU (measured in docs/performance.md, CLI start-up).
 * Every other specifier is left to Node.
 *
 * Written for Node 22 and 24: test/adapters/node-resolve.test.ts pins those majors and checks, for every
 * module drizzle-orm's entry points load, that this answers exactly what Node's resolver answers.
 */
export function registerFastResolve(): void {
  const resolveInstalled = installedModuleResolver();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      return resolveInstalled(specifier, context.parentURL) ?? nextResolve(specifier, context);
    },
  });
}

/**
 * The resolver the hook uses: the answer for a relative `.js` import from a file under `node_modules/` that
 * lies in an ESM package, undefined for anything else. Package types are cached per folder.
 */
export function installedModuleResolver(): (
  specifier: string,
  parentURL: string | undefined,
) => { url: string; format: 'module'; shortCircuit: true } | undefined {
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

  return (specifier, parent) => {
    if (
      !parent?.startsWith('file:') ||
      !(specifier.startsWith('./') || specifier.startsWith('../')) ||
      !specifier.endsWith('.js') ||
      !parent.includes('/node_modules/')
    ) {
      return undefined;
    }
    const path = fileURLToPath(new URL(specifier, parent));
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return undefined;
    const real = realpathSync(path);
    if (packageType(dirname(real)) !== 'module') return undefined;
    return { url: pathToFileURL(real).href, format: 'module', shortCircuit: true };
  };
}
