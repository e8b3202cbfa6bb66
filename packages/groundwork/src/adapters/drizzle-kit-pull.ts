/**
 * drizzle-kit's introspection (`drizzle-kit pull`), run as its CLI and its schema.ts read back. Relies on
 * drizzle-kit 0.31.11: the config keys `dialect`, `driver: 'pglite'`, `dbCredentials.url`, `schemaFilter`,
 * `tablesFilter` (`!name` excludes), `out`, `introspect.casing`; that it writes `<out>/schema.ts`; and on the
 * shape of one line it gets wrong, an identity's options with `maxValue` as a plain number (a bigint's
 * 9223372036854775807 does not survive as a JS number). `test/adapters/drizzle-kit-pull.test.ts` pins these.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

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

/** Runs `drizzle-kit pull` into a private temporary folder and returns the schema.ts it wrote, fixed. */
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
    const { code, output } = await run(process.execPath, [bin, 'pull', '--config', 'drizzle.config.json'], work);
    if (code !== 0) {
      throw new PullError(`drizzle-kit pull failed (exit ${code}): ${lastLines(output)}`);
    }
    return fixPulledSchema(readFileSync(join(work, 'out', 'schema.ts'), 'utf8'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const BIGINT_MAX = '9223372036854775807';

/**
 * What drizzle-kit's schema.ts gets wrong: a bigint identity's `maxValue: 9223372036854775807` (a number
 * rounds up past bigint's range) is the default anyway, so it goes.
 */
export function fixPulledSchema(text: string): string {
  return text.replaceAll(`, maxValue: ${BIGINT_MAX}`, '');
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The end of drizzle-kit's output, without terminal control codes; it never prints the URL's password. */
const lastLines = (output: string) =>
  output
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
    .trim()
    .split('\n')
    .slice(-5)
    .join(' ');
