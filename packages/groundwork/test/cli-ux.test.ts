/**
 * The CLI as a person meets it, through real processes: suggestions for mistyped commands and options, hints
 * for the first errors people hit, one JSON envelope, the user's file and line for a broken schema, and
 * colour only on a terminal (a pseudo-terminal from util-linux `script`) unless NO_COLOR is set.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/cli.ts';
import { BIN, cli, copyApp, PACKAGE_DIR, removeTempFolders, serverUrl } from './support/harness.ts';

const run = promisify(execFile);
const cwd = join(import.meta.dirname, 'support', 'shelf');
const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' };

afterAll(removeTempFolders);

describe('mistakes on the command line', () => {
  it('suggests the db command for an Alembic habit, and the closest command for a typo (exit 2)', async () => {
    const habit = await cli(['upgrade'], { cwd, env: {} });
    expect(habit.code).toBe(2);
    expect(habit.stderr).toContain('unknown command "upgrade"\nDid you mean: groundwork db upgrade?');
    const typo = await cli(['db', 'histroy'], { cwd, env: {} });
    expect(typo.stderr).toContain('Did you mean: groundwork db history?');
  });

  it('names a misspelled option, the closest one the command has, and where help is', async () => {
    const result = await cli(['db', 'upgrade', '--sqll'], { cwd, env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'unknown option --sqll for "groundwork db upgrade" (did you mean --sql?); see groundwork db upgrade --help',
    );
  });

  it('calls a malformed or misplaced --rename a usage error (exit 2), and writes nothing', async () => {
    const app = copyApp();
    const before = readdirSync(join(app, 'migrations'));
    const malformed = await cli(['db', 'revision', '-m', 'x', '--autogenerate', '--rename', 'books.author'], {
      cwd: app,
      env: {},
    });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('error: Invalid rename "books.author"');
    const misplaced = await cli(['db', 'revision', '-m', 'x', '--empty', '--rename', 'a=b'], {
      cwd: app,
      env: {},
    });
    expect(misplaced).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--rename goes with --autogenerate'),
    });
    expect(readdirSync(join(app, 'migrations'))).toEqual(before);
  });

  it('prints the version', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect((await cli(['--version'], { cwd, env: {} })).stdout).toBe(`${version}\n`);
  });
});

describe('help', () => {
  it('explains every option of every command and shows examples', () => {
    for (const { command } of COMMANDS) {
      expect(command.examples.length, command.name).toBeGreaterThan(0);
      for (const [name, option] of Object.entries(command.options)) {
        expect(option.description.trim(), `${command.name} --${name}`).not.toBe('');
      }
    }
  });

  it('db upgrade --help says what --sql, --allow-out-of-order and the lock flags do, with examples', async () => {
    const help = await cli(['db', 'upgrade', '--help'], { cwd, env: {} });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}--sql {2,}print the psql script/m);
    expect(help.stdout).toMatch(/^ {2}--allow-out-of-order {2,}\S/m);
    expect(help.stdout).toMatch(/^ {2}--lock-timeout <value> {2,}longest wait for one lock/m);
    expect(help.stdout).toMatch(/^ {2}--lock-retries <value> {2,}attempts after a lock timeout/m);
    expect(help.stdout).toContain('examples:\n  groundwork db upgrade');
  });

  it('lists the commands for the db group alone (exit 2) or with --help (exit 0)', async () => {
    const [bare, asked] = await Promise.all([
      cli(['db'], { cwd, env: {} }),
      cli(['db', '--help'], { cwd, env: {} }),
    ]);
    expect(bare.code).toBe(2);
    expect(asked.code).toBe(0);
    for (const result of [bare, asked]) expect(result.stdout).toContain('groundwork db upgrade [head|<id>]');
  });
});

describe('errors with hints', () => {
  it('names host:port when nothing listens there, and what to do', async () => {
    const result = await cli(['db', 'current'], { cwd, env: unreachable });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'hint: nothing listens at 127.0.0.1:1: start PostgreSQL (docker compose up -d)',
    );
  });

  it.skipIf(!serverUrl)('says how to create a database that does not exist (3D000)', async () => {
    const missing = Object.assign(new URL(serverUrl!), { pathname: '/gw_no_such_database' }).href;
    const result = await cli(['db', 'current'], { cwd, env: { DATABASE_URL: missing } });
    expect(result.stderr).toContain('hint: the database does not exist: create it');
  });

  it('names the file and line of a mistake in the schema', async () => {
    const app = copyApp();
    const schema = join(app, 'src', 'schema.ts');
    writeFileSync(schema, readFileSync(schema, 'utf8').replace("text('title')", "txet('title')"));
    const result = await cli(['db', 'check', '--offline'], { cwd: app, env: {} });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/txet is not defined \(at .*\/src\/schema\.ts:\d+:\d+\)/);
    const verbose = await cli(['db', 'check', '--offline', '--verbose'], { cwd: app, env: {} });
    expect(verbose.stderr).toMatch(/ReferenceError: txet is not defined\n\s+at /);
  });
});

describe('--json: one envelope for every command', () => {
  it('wraps results in {ok, command, ...}', async () => {
    const result = await cli(['db', 'history', '--json'], { cwd, env: unreachable });
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      command: 'db history',
      error: expect.stringContaining('ECONNREFUSED'),
      hint: expect.stringContaining('nothing listens at 127.0.0.1:1'),
    });
    const key = JSON.parse((await cli(['secrets', 'generate-key', '--json'], { cwd, env: {} })).stdout);
    expect(key).toEqual({ ok: true, command: 'secrets', key: expect.stringMatching(/^\w+:/) });
  });
});

describe('openapi', () => {
  it("writes the app's OpenAPI document, without touching its database", async () => {
    const app = copyApp();
    const file = join(app, 'openapi.json');
    const result = await cli(['openapi', '--out', file], { cwd: app, env: unreachable });
    expect(result.code).toBe(0);
    const document = JSON.parse(readFileSync(file, 'utf8'));
    expect(document.openapi).toBe('3.0.3');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
  });
});

describe('colour', () => {
  /** The mistyped command's output on a pseudo-terminal (it exits 2, so `script` rejects with it). */
  const onTerminal = (noColor: boolean) => {
    const env = { ...process.env };
    delete env.NO_COLOR;
    if (noColor) env.NO_COLOR = '1';
    return run('script', ['-qec', `${process.execPath} ${BIN} upgrade`, '/dev/null'], { cwd, env }).catch(
      (error: { stdout: string }) => error.stdout,
    );
  };

  it('marks errors in red on a terminal', async () => {
    expect(await onTerminal(false)).toContain('\x1b[31merror:\x1b[39m');
  });

  it('never colours with NO_COLOR set, or when stderr is not a terminal', async () => {
    expect(await onTerminal(true)).not.toContain('\x1b[');
    expect((await cli(['upgrade'], { cwd, env: {} })).stderr).not.toContain('\x1b[');
  });
});
