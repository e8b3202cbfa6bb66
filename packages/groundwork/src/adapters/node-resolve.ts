import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isBuiltin, type ResolveFnOutput, type ResolveHookContext, registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Relies on: Node's module customization hooks (`registerHooks`, synchronous, in process) and on two things
 * Node's own resolver does:
 *   - for a relative `.js` import inside an installed package whose nearest package.json says
 *     `"type": "module"`, it answers the file's real path as a URL, format `module` (re-implemented here);
 *   - for a bare import (`drizzle-orm/pg-core`) that is not the importing package's own name, it takes the
 *     first `node_modules/<name>` folder above the importer and answers from that package alone: its answer
 *     depends only on (that folder, the subpath, the conditions). Node's first answer for each is kept.
 *
 * Why it is worth it: Node 22 and 24 parse a package's whole `exports` map again for every module they load
 * from it and for every bare import of it (the package scope lookup spreads a lazily parsed object).
 * drizzle-orm's map is large, it loads hundreds of modules and the apps and the library import it from many
 * folders, so every start paid for it in CPU (measured in docs/performance.md, CLI start-up and embedded
 * start). Every other specifier is left to Node: `#` imports, built-ins, URLs, a package importing itself,
 * `require`, and everything under `--experimental-package-map`.
 *
 * Written for Node 22 and 24: test/adapters/node-resolve.test.ts pins those majors and checks, for every
 * module the library's entry point and drizzle-orm load, that this answers exactly what Node's resolver answers.
 */
export function registerFastResolve(): void {
  const resolveInstalled = installedModuleResolver();
  const resolveBare = bareImportResolver();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      return (
        resolveInstalled(specifier, context.parentURL) ??
        resolveBare(specifier, context, nextResolve) ??
        nextResolve(specifier, context)
      );
    },
  });
}

interface PackageScope {
  type: string;
  name?: string;
  exports: boolean;
}

/** The nearest package.json at or above a folder, as Node reads it for a module's type; cached per folder. */
function packageScopes(): (start: string) => PackageScope {
  const scopeByDir = new Map<string, PackageScope>();
  return (start) => {
    const visited: string[] = [];
    let scope: PackageScope = { type: 'commonjs', exports: false };
    for (let dir = start; ; dir = dirname(dir)) {
      const known = scopeByDir.get(dir);
      if (known) {
        scope = known;
        break;
      }
      visited.push(dir);
      const manifest = join(dir, 'package.json');
      if (statSync(manifest, { throwIfNoEntry: false })?.isFile()) {
        const json = JSON.parse(readFileSync(manifest, 'utf8')) as {
          type?: string;
          name?: string;
          exports?: unknown;
        };
        scope = { type: json.type ?? 'commonjs', name: json.name, exports: json.exports != null };
        break;
      }
      if (dirname(dir) === dir) break;
    }
    for (const dir of visited) scopeByDir.set(dir, scope);
    return scope;
  };
}

/**
 * The resolver the hook uses first: the answer for a relative `.js` import from a file under `node_modules/`
 * that lies in an ESM package, undefined for anything else.
 */
export function installedModuleResolver(): (
  specifier: string,
  parentURL: string | undefined,
) => { url: string; format: 'module'; shortCircuit: true } | undefined {
  const scopeOf = packageScopes();
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
    // One system call; the JavaScript realpathSync makes one per path component.
    const real = realpathSync.native(path);
    if (scopeOf(dirname(real)).type !== 'module') return undefined;
    return { url: pathToFileURL(real).href, format: 'module', shortCircuit: true };
  };
}

type NextResolve = (specifier: string, context?: Partial<ResolveHookContext>) => ResolveFnOutput;

/** `name` and `/subpath` of a bare specifier as Node splits it, or undefined for anything else. */
function splitBare(specifier: string): { name: string; rest: string } | undefined {
  // A URL (`node:fs`, `file:...`), a path, or a package's own `#` import.
  if (/^[a-zA-Z][a-zA-Z\d+.-]*:/.test(specifier) || /^[./#]/.test(specifier) || isBuiltin(specifier)) {
    return undefined;
  }
  const match = /^((?:@[^/]+\/)?[^/]+)(\/.*)?$/.exec(specifier);
  if (!match?.[1] || /[\\%]/.test(match[1])) return undefined;
  return { name: match[1], rest: match[2] ?? '' };
}

/**
 * The resolver the hook uses second: for a bare ESM import, Node's own answer, asked once per (package folder
 * found, subpath, conditions); undefined where Node must decide each time.
 */
export function bareImportResolver(): (
  specifier: string,
  context: ResolveHookContext,
  nextResolve: NextResolve,
) => ResolveFnOutput | undefined {
  const packageMap = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((option) =>
    option.includes('--experimental-package-map'),
  );
  const scopeOf = packageScopes();
  const isFolder = new Map<string, boolean>();
  const answers = new Map<string, ResolveFnOutput>();

  /** The first `node_modules/<name>` folder at or above `start`, as Node looks for it. */
  const packageFolder = (start: string, name: string): string | undefined => {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      let found = isFolder.get(candidate);
      if (found === undefined) {
        found = statSync(candidate, { throwIfNoEntry: false })?.isDirectory() ?? false;
        isFolder.set(candidate, found);
      }
      if (found) return candidate;
      if (dirname(dir) === dir) return undefined;
    }
  };

  return (specifier, context, nextResolve) => {
    const parent = context.parentURL;
    const { conditions } = context;
    if (
      packageMap ||
      !parent?.startsWith('file:') ||
      !conditions.includes('import') ||
      conditions.includes('require')
    ) {
      return undefined;
    }
    const bare = splitBare(specifier);
    if (!bare) return undefined;
    const parentDir = dirname(fileURLToPath(parent));
    const scope = scopeOf(parentDir);
    // A package importing itself by name resolves through its own exports (Node's self-reference).
    if (scope.exports && scope.name === bare.name) return undefined;
    const folder = packageFolder(parentDir, bare.name);
    if (!folder) return undefined;
    const key = `${folder}\0${bare.rest}\0${conditions.join('\0')}`;
    let answer = answers.get(key);
    if (!answer) {
      const { url, format } = nextResolve(specifier, context);
      answer = { url, format, shortCircuit: true };
      answers.set(key, answer);
    }
    return { ...answer };
  };
}
