/**
 * The app shape (docs/architecture.md, "The app shape"), held by code: every app in apps/ and the template
 * `groundwork new` copies have the same files for the same roles, name the same things the same way, and
 * take the conventions from groundwork-pg rather than writing their own.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const APPS = [
  ...readdirSync(join(REPO, 'apps')).map((name) => join(REPO, 'apps', name)),
  join(REPO, 'packages', 'groundwork', 'template'),
].filter((dir) => existsSync(join(dir, 'src', 'app.ts')));

/** Every `.ts` file under `dir`, relative to it. */
function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts') && statSync(join(dir, path)).isFile())
    .sort();
}

/** The folders of src/ that hold a resource: those with a routes.ts. */
const resources = (app: string) =>
  readdirSync(join(app, 'src')).filter((name) => existsSync(join(app, 'src', name, 'routes.ts')));

describe.each(APPS.map((app) => [relative(REPO, app), app]))('%s', (_name, app) => {
  const read = (path: string) => readFileSync(join(app, path), 'utf8');
  const src = sources(join(app, 'src')).map((path) => `src/${path}`);

  it('has the files of the shape', () => {
    for (const path of [
      'package.json',
      'vitest.config.ts',
      'src/app.ts',
      'src/schema.ts',
      'src/seed.ts',
      'test/ownership.test.ts',
      'test/migrations.test.ts',
    ]) {
      expect(existsSync(join(app, path)), path).toBe(true);
    }
    for (const resource of resources(app).filter((name) => name !== 'health')) {
      for (const file of ['routes.ts', 'repository.ts', 'schemas.ts']) {
        expect(existsSync(join(app, 'src', resource, file)), `src/${resource}/${file}`).toBe(true);
      }
    }
  });

  it("wires its health routes: the story's body with the app context, or the readiness report as it is", () => {
    const story = /app\.register\(healthRoutes, \{ prefix: '[^']+', context[ ,]/;
    const readiness =
      /app\.register\(readinessRoutes, \{ prefix: '[^']+', readiness: context\.readiness \}\)/;
    const wiring = read('src/app.ts');
    if (existsSync(join(app, 'src', 'health', 'routes.ts'))) {
      expect(wiring).toMatch(story);
      expect(read('src/health/routes.ts')).toMatch(/RoutesPlugin<\{ context: AppContext[<;, }]/);
    } else {
      expect(wiring).toMatch(readiness);
    }
  });

  it('names each row→response function `to` + the response type it returns, beside that schema', () => {
    const mappers = src.flatMap((path) =>
      [
        ...read(path).matchAll(/export (?:function|const) (to[A-Z]\w*)\s*(?:=\s*)?\([^)]*\)\s*:\s*(\w+)/g),
      ].map(([, name, type]) => ({ path, name, type })),
    );
    for (const { path, name, type } of mappers) {
      expect(path, name).toMatch(/\/schemas\.ts$/);
      expect(name, path).toBe(`to${type}`);
    }
  });

  it('takes id parameters, ownership and hot queries from groundwork-pg', () => {
    for (const path of src) {
      const text = read(path);
      // One id-params schema: groundwork-pg's IdParams or IntegerIdParams.
      expect(text, path).not.toMatch(/export const \w*Id\w* = z\.(strict)?[oO]bject\(\{ id: /);
      // Ownership is declared on routes (config.auth, owner), not checked in handlers.
      expect(text, path).not.toMatch(/ensureOwnUser\(/);
      // A password app's context has its session store by type.
      expect(text, path).not.toMatch(/context\.sessions!/);
      // Prepared on the pool and plain in a transaction is hotQuery's job, not a branch per method.
      expect(text, path).not.toMatch(/executor === db\s*\?/);
    }
  });

  it('declares who may call every route: its ownership test is describeOwnership', () => {
    const test = read('test/ownership.test.ts');
    expect(test).toContain('describeOwnership(');
    expect(test.split('\n').length).toBeLessThanOrEqual(61);
  });
});
