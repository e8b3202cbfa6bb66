/**
 * Builds the library (`tsc -b`) when its build is not known to be current; what `npm start`, `npm test` and
 * the benches run first. Starting the compiler just to learn that nothing changed would be most of what
 * `npm start` adds to the server's own start; this check only reads and hashes the inputs.
 *
 * The build is current when all of these hold, else `tsc -b` runs and, once it succeeds, the state is
 * recorded again (in node_modules/.cache, so a fresh install starts without one):
 *   - the digest of the inputs equals the one recorded after the last build: every file under the
 *     project's rootDir (paths and contents, so an edit, a new or deleted file and a switched git branch
 *     all count), the tsconfig files it extends, the package's package.json, and the lockfile (the
 *     compiler's version and the type packages');
 *   - the build's .tsbuildinfo is the one that build wrote (no other build, from other sources, since);
 *   - every output a source file compiles to exists (.js, and .d.ts and .js.map when configured).
 * A missing output forces a full build (`tsc -b` alone trusts its .tsbuildinfo and would not write it again).
 * A tsconfig that is not plain JSON, or extends a package's, is not read: the compiler then decides.
 *
 *   node scripts/build-if-stale.ts
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const PROJECT = join(ROOT, 'packages', 'groundwork', 'tsconfig.build.json');
const STATE_FILE = join(ROOT, 'node_modules', '.cache', 'groundwork', 'build-state.json');

interface CompilerOptions {
  rootDir?: string;
  outDir?: string;
  tsBuildInfoFile?: string;
  declaration?: boolean;
  sourceMap?: boolean;
}

interface BuildState {
  inputs: string;
  buildInfo: string;
}

/** The tsconfig files of the project (itself first, then what it extends) and its merged options. */
function readProject(file: string): { files: string[]; options: CompilerOptions } | undefined {
  const files: string[] = [];
  const layers: { dir: string; options: CompilerOptions }[] = [];
  for (let current: string | undefined = file; current; ) {
    let config: { extends?: string; compilerOptions?: CompilerOptions };
    try {
      config = JSON.parse(readFileSync(current, 'utf8'));
    } catch {
      return undefined;
    }
    files.push(current);
    layers.push({ dir: dirname(current), options: config.compilerOptions ?? {} });
    // Only relative extends: a package's tsconfig would need the compiler's own module resolution.
    if (config.extends !== undefined && !config.extends.startsWith('.')) return undefined;
    current = config.extends && resolve(dirname(current), config.extends);
  }
  const options: CompilerOptions = {};
  // Paths in a tsconfig are relative to the file that sets them; the nearest file wins.
  for (const { dir, options: layer } of layers.reverse()) {
    for (const [key, value] of Object.entries(layer) as [keyof CompilerOptions, unknown][]) {
      (options as Record<string, unknown>)[key] =
        typeof value === 'string' && ['rootDir', 'outDir', 'tsBuildInfoFile'].includes(key)
          ? resolve(dir, value)
          : value;
    }
  }
  return { files, options };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** What `tsc` writes for a source file (none for declaration files and other files). */
function outputsOf(source: string, options: Required<CompilerOptions>): string[] {
  if (!source.endsWith('.ts') || source.endsWith('.d.ts')) return [];
  const base = join(options.outDir, relative(options.rootDir, source)).slice(0, -'.ts'.length);
  return [
    `${base}.js`,
    ...(options.declaration ? [`${base}.d.ts`] : []),
    ...(options.sourceMap ? [`${base}.js.map`] : []),
  ];
}

function fingerprint(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? `${stat.size}:${stat.mtimeMs}` : 'missing';
}

/**
 * The build as it is now, or undefined when the project cannot be read here (the compiler then decides).
 * The inputs are digested before the compiler runs, so a file edited while it runs is seen as changed by
 * the next check.
 */
function currentState(): (BuildState & { outputsPresent: boolean }) | undefined {
  const project = readProject(PROJECT);
  const { rootDir, outDir, tsBuildInfoFile } = project?.options ?? {};
  if (!project || !rootDir || !outDir || !tsBuildInfoFile) return undefined;
  const options = { declaration: false, sourceMap: false, ...project.options } as Required<CompilerOptions>;
  const sources = listFiles(rootDir);
  const hash = createHash('sha256');
  for (const input of [
    ...project.files,
    join(dirname(PROJECT), 'package.json'),
    join(ROOT, 'package-lock.json'),
    ...sources,
  ]) {
    hash.update(`${relative(ROOT, input)}\0`);
    hash.update(existsSync(input) ? readFileSync(input) : 'missing');
    hash.update('\0');
  }
  return {
    inputs: hash.digest('hex'),
    buildInfo: fingerprint(tsBuildInfoFile),
    outputsPresent: sources.flatMap((source) => outputsOf(source, options)).every((file) => existsSync(file)),
  };
}

function recordedState(): BuildState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as BuildState;
  } catch {
    return undefined;
  }
}

const before = currentState();
const recorded = recordedState();
const current =
  before?.outputsPresent && before.inputs === recorded?.inputs && before.buildInfo === recorded.buildInfo;
if (!current) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // tsc -b does not notice a deleted output: its .tsbuildinfo says the file was written.
  const force = before?.outputsPresent === false ? ['--force'] : [];
  try {
    execFileSync(process.execPath, [tsc, '-b', ...force, PROJECT], { stdio: 'inherit' });
  } catch {
    // tsc has printed its errors; nothing is recorded, so the next check builds again.
    process.exit(1);
  }
  const after = currentState();
  if (before && after?.outputsPresent) {
    mkdirSync(dirname(STATE_FILE), { recursive: true });
    const state: BuildState = { inputs: before.inputs, buildInfo: after.buildInfo };
    writeFileSync(STATE_FILE, `${JSON.stringify(state)}\n`);
  }
}
