/**
 * drizzle-kit's introspection (`drizzle-kit pull`), run as its CLI and its schema.ts read back. Relies on
 * drizzle-kit 0.31.11: the config keys `dialect`, `driver: 'pglite'`, `dbCredentials.url`, `schemaFilter`,
 * `tablesFilter` (`!name` excludes), `out`, `introspect.casing`; that it writes `<out>/schema.ts`; and on the
 * shapes of what it gets wrong there: an identity's options with `maxValue` as a plain number (a bigint's
 * 9223372036854775807 does not survive as a JS number); an empty string default written `.default(')`; SQL copied into sql`...` without escaping its
 * backslashes (a CHECK's regex loses half of them); each index on one line, its columns' operator classes
 * as `.op("name")` in column order, every column given the first one's (a uuid column of a two-column
 * index gets `timestamptz_ops`). `test/adapters/drizzle-kit-pull.test.ts` pins these.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const require = createRequire(import.meta.url);

/**
 * Each index's operator classes, by index name, one per plain column in key order (expressions skipped):
 * the name, or undefined when it is the column type's default (then no `.op()` is written).
 */
export type IndexOperatorClasses = ReadonlyMap<string, readonly (string | undefined)[]>;

export interface PullSource {
  /** A server database; absent: the embedded PGlite cluster in `dataDir` (no other process may hold it). */
  url?: string;
  dataDir?: string;
  schemas: readonly string[];
  /** Tables left out, by name (bookkeeping tables, `alembic_version`). */
  excludeTables: readonly string[];
}

export class PullError extends Error {
  override name = 'PullError';
}

/** Runs `drizzle-kit pull` into a private temporary folder and returns the schema.ts it wrote, as written. */
export async function drizzleKitPull(source: PullSource): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'groundwork-pull-'));
  try {
    const config = {
      dialect: 'postgresql',
      ...(source.url ? {} : { driver: 'pglite' }),
      out: './out',
      dbCredentials: { url: source.url ?? source.dataDir },
      schemaFilter: source.schemas,
      tablesFilter: ['*', ...source.excludeTables.map((table) => `!${table}`)],
      introspect: { casing: 'camel' },
    };
    // mkdtemp makes the folder 0700: the URL in the config (it may hold a password) stays the owner's
    writeFileSync(join(work, 'drizzle.config.json'), JSON.stringify(config), { mode: 0o600 });
    // the bin is not in the package's exports: it sits next to the api entry
    const bin = join(dirname(require.resolve('drizzle-kit/api')), 'bin.cjs');
    const { code, output } = await run(
      process.execPath,
      [bin, 'pull', '--config', 'drizzle.config.json'],
      work,
    );
    if (code !== 0) {
      throw new PullError(`drizzle-kit pull failed (exit ${code}): ${lastLines(output)}`);
    }
    return readFileSync(join(work, 'out', 'schema.ts'), 'utf8');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const BIGINT_MAX = '9223372036854775807';

const SQL_TEMPLATE = /sql`([^`]*)`/g;
const INDEX_LINE = /\b(?:uniqueIndex|index)\("([^"]+)"\)[^\n]*/g;
const OPERATOR_CLASS = /\.op\("[^"]*"\)/g;

/**
 * What drizzle-kit's schema.ts gets wrong (see the header): a bigint identity's `maxValue` goes (it is the
 * default anyway), an empty default gets both quotes, backslashes in sql`...` are escaped, and each index's `.op()`s are the live ones.
 */
export function fixPulledSchema(text: string, operatorClasses: IndexOperatorClasses): string {
  return text
    .replaceAll(`, maxValue: ${BIGINT_MAX}`, '')
    .replaceAll(".default(')", ".default('')")
    .replace(SQL_TEMPLATE, (_, body: string) => `sql\`${body.replaceAll('\\', '\\\\')}\``)
    .replace(INDEX_LINE, (line, name: string) => {
      const classes = operatorClasses.get(name);
      if (!classes) return line;
      let column = 0;
      return line.replace(OPERATOR_CLASS, () => {
        const opclass = classes[column++];
        return opclass ? `.op("${opclass}")` : '';
      });
    });
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The end of drizzle-kit's output, without terminal control codes; it never prints the URL's password. */
const lastLines = (output: string) => stripVTControlCharacters(output).trim().split('\n').slice(-5).join(' ');
