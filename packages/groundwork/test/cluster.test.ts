import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

const primary = join(import.meta.dirname, 'support', 'cluster', 'primary.ts');

/** Runs the fixture primary until it exits, or SIGTERMs it after `ms`; resolves with its output and code. */
async function runFor(ms: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [primary], { env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const code = await Promise.race([exited, delay(ms).then(() => undefined)]);
  if (code !== undefined) return { output, code };
  child.kill('SIGTERM');
  return { output, code: await exited };
}

describe('cluster primary (runPrimary)', { timeout: 60_000 }, () => {
  it('replaces a worker that keeps crashing right after it starts, doubling the wait each time', async () => {
    const { output } = await runFor(5000);
    const waits = [...output.matchAll(/replacing it in (\d+) ms/g)].map((m) => Number(m[1]));
    expect(waits.slice(0, 3)).toEqual([100, 200, 400]);
    // Without the backoff it would have forked dozens in 5 s.
    expect(output.match(/listening/g)!.length).toBeLessThanOrEqual(8);
  });

  it('stops with exit 1, forking no more, when no worker ever starts', async () => {
    const { output, code } = await runFor(10_000, { CRASH: 'before' });
    expect(code).toBe(1);
    expect(output).toMatch(/worker 1 failed to start \(code 3\); stopping/);
    expect(output).not.toMatch(/worker 2/);
  });
});
