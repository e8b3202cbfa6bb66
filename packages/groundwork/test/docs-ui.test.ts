import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type ConsoleMessage, chromium, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAllApps } from '../src/cli/apps.ts';
import type { AppServer } from '../src/http/app-server.ts';
import { startApp } from '../src/runtime.ts';
import { buildServer } from '../src/server.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`docs-ui.test.ts skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const root = join(import.meta.dirname, '..', '..', '..');
const screenshots = join(tmpdir(), 'groundwork-docs-ui');

let server: AppServer;
let base: string;
let browser: Browser;
/** One tab for every app's docs: a new page per app started a renderer process each time. */
let page: Page;
const databases: TestDatabase<any>[] = [];
const definitions = await resolveAllApps(root);

beforeAll(async () => {
  if (!available) return;
  // All apps under their prefixes, as `npm start` serves them.
  const apps = [];
  // The docs need the routes, not the tables: unmigrated databases (a server may lack pgvector for delight),
  // so the apps' start-up checks of their data are left out.
  for (const definition of definitions) {
    const database = await createTestDatabase(definition, { migrate: false });
    databases.push(database);
    apps.push(
      await startApp(
        { ...definition, verify: undefined },
        { settings: database.settings, handle: database.handle, migrate: false },
      ),
    );
  }
  server = await buildServer(apps, { logLevel: 'silent', mount: 'prefixed' });
  base = await server.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const database of databases) await database.dispose();
});

describe.runIf(available)('the docs UI in headless Chromium', () => {
  it.each(definitions.map((d) => d.name))('/%s/docs lists every operation of the app', async (name) => {
    const spec = (await (await fetch(`${base}/${name}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const expected = Object.entries(spec.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(expected.length).toBeGreaterThan(2);

    const problems: string[] = [];
    const onConsole = (message: ConsoleMessage) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    };
    const onResponse = (response: Response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    };
    page.on('console', onConsole);
    page.on('response', onResponse);
    try {
      await page.goto(`${base}/${name}/docs`);
      await page.waitForSelector('.opblock', { timeout: 15_000 });
      const listed = await page.$$eval('.opblock', (blocks) =>
        blocks.map(
          (block) =>
            `${block.querySelector('.opblock-summary-method')?.textContent?.trim()} ${block
              .querySelector('.opblock-summary-path')
              ?.getAttribute('data-path')}`,
        ),
      );
      expect(listed.sort()).toEqual(expected);
      expect(problems).toEqual([]);
    } catch (error) {
      mkdirSync(screenshots, { recursive: true });
      const file = join(screenshots, `docs-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.error(`screenshot of the failed page: ${file}\n${problems.join('\n')}`);
      throw error;
    } finally {
      page.off('console', onConsole);
      page.off('response', onResponse);
    }
  });
});
