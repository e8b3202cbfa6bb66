/**
 * `npm run lint:openapi`: every app's OpenAPI document, as `groundwork openapi <app>` prints it, linted by
 * Redocly CLI with its recommended rules (redocly.yaml). Exits non-zero on any error; warnings are printed.
 *
 *   node scripts/lint-openapi.ts [app ...]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'packages', 'groundwork', 'src', 'cli', 'bin.ts');
const REDOCLY = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');

const apps = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(join(ROOT, 'apps')).filter((name) => existsSync(join(ROOT, 'apps', name, 'src', 'app.ts')));
const out = mkdtempSync(join(tmpdir(), 'groundwork-openapi-'));
try {
  const files = apps.map((app) => {
    const file = join(out, `${app}.json`);
    execFileSync(process.execPath, [CLI, 'openapi', app, '--out', file], { cwd: ROOT, stdio: 'ignore' });
    return file;
  });
  const args = ['lint', '--format', 'stylish', '--config', join(ROOT, 'redocly.yaml'), ...files];
  execFileSync(process.execPath, [REDOCLY, ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
} catch (error) {
  process.exitCode = (error as { status?: number }).status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
