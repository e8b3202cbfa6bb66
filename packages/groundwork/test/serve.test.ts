import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from './support/subprocess.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'gw-serve-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// Real processes: starting one (tsx, PGlite) takes many seconds on a loaded machine.
/** Starts the server in the fixture app folder on an embedded database. */
const serve = (command?: string[]) => startServer({ command, env: { DATA_DIR: dataDir } });

describe('groundwork serve', { timeout: 90_000 }, () => {
  it('migrates the embedded database on start, serves the app at /, and drains in-flight requests on SIGTERM, exiting 0', async () => {
    const { child, url, exited } = await serve();
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    const inFlight = fetch(`${url}/slow?seconds=1`);
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect((await exited).code).toBe(0);
  });
});

describe('npm start', { timeout: 90_000 }, () => {
  it('passes SIGTERM through the npm script to the server, which exits 0 and frees its port', async () => {
    const { child, url, exited } = await serve(['npm', 'start', '--silent']);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
    // The server itself stopped, not only npm: nothing answers on its port any more.
    await new Promise((r) => setTimeout(r, 500));
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
  });
});
