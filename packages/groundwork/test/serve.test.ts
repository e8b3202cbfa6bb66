import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', 'src', 'cli', 'bin.ts');
const appDir = join(import.meta.dirname, 'support', 'notes');
const dataDir = mkdtempSync(join(tmpdir(), 'gw-serve-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Starts the server in the fixture app folder on an embedded database and resolves its base URL. */
function serve(
  command: string[] = [process.execPath, bin, 'serve'],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: appDir,
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      TEST_DATABASE_URL: '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

describe('groundwork serve', () => {
  it('migrates the embedded database on start, serves the app at /, and drains in-flight requests on SIGTERM, exiting 0', async () => {
    const { child, url } = await serve();
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    const inFlight = fetch(`${url}/slow?seconds=1`);
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await exited).toBe(0);
  });
});

describe('npm start', () => {
  it('passes SIGTERM through the npm script to the server, which exits 0 and frees its port', async () => {
    const { child, url } = await serve(['npm', 'start', '--silent']);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The server itself stopped, not only npm: nothing answers on its port any more.
    await new Promise((r) => setTimeout(r, 500));
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
  });
});
