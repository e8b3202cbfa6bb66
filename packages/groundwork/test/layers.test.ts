/**
 * The layer check `npm run lint` runs (.dependency-cruiser.cjs): on a small tree with one upward import of
 * each kind (a type, a lazy import()) and some allowed ones, it must exit non-zero and name exactly the
 * upward ones and the rule each breaks.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const config = fileURLToPath(new URL('../.dependency-cruiser.cjs', import.meta.url));
const depcruise = fileURLToPath(
  new URL('../../bin/dependency-cruiser.mjs', import.meta.resolve('dependency-cruiser')),
);

const FILES: Record<string, string> = {
  'src/app.ts': 'export interface AppDefinition { name: string }\n',
  // Upward: base names an app type.
  'src/redact.ts':
    "import type { AppDefinition } from './app.ts';\nexport type Named = AppDefinition['name'];\n",
  // Upward: database loads http lazily.
  'src/database/open.ts': "export const later = () => import('../http/health.ts');\n",
  'src/http/health.ts': "import { later } from '../database/open.ts';\nexport const health = later;\n",
  // Allowed: auth imports http, http imports base, within a layer.
  'src/auth/plugin.ts': "import { health } from '../http/health.ts';\nexport const hook = health;\n",
  'src/http/input.ts':
    "import type { Named } from '../redact.ts';\nimport { health } from './health.ts';\nexport const input = (name: Named) => [name, health];\n",
  // Outside every layer.
  'src/stray.ts': "import { health } from './http/health.ts';\nexport const stray = health;\n",
};

describe('the layer check', () => {
  const root = mkdtempSync(join(tmpdir(), 'gw-layers-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fails on an upward import, a type or a lazy one, and names the rule; allows imports downward', () => {
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const run = spawnSync(process.execPath, [depcruise, '--config', config, '--output-type', 'err', 'src'], {
      cwd: root,
      encoding: 'utf8',
    });
    const violations = run.stdout
      .split('\n')
      .filter((line) => line.includes('error '))
      .map((line) => line.trim())
      .sort();
    expect(violations).toEqual([
      'error layer-base: src/redact.ts → src/app.ts',
      'error layer-database: src/database/open.ts → src/http/health.ts',
      'error layer-unassigned: src/stray.ts → src/http/health.ts',
    ]);
    expect(run.status).not.toBe(0);
  });
});
