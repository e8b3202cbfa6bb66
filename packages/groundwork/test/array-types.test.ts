/**
 * postgres.js 3.4.9 loads the server's array types on each new connection and drops the promise of that load:
 * a connection cut while it runs ends the process with an unhandled rejection (porsager/postgres#1192). The
 * pools load them themselves (adapters/postgres-array-types.ts). These tests cut that load for real, through
 * a proxy, in a process of its own, and check that array parameters and results still work.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { testBackend } from '../src/testing/index.ts';

const serverUrl = process.env.TEST_DATABASE_URL;
const child = join(import.meta.dirname, 'support', 'array-types-child.ts');

type Cut = 'network drop' | 'pg_terminate_backend';

interface CuttingProxy {
  url: string;
  /** How many connections it cut. */
  cuts(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy to the server that cuts the first connection asking the catalog for its array types (the
 * query names pg_type), once: by closing both sides, or by having the server terminate that backend.
 */
async function cuttingProxy(cut: Cut): Promise<CuttingProxy> {
  const target = new URL(serverUrl!);
  const admin = postgres(serverUrl!, { max: 1, onnotice: () => {} });
  const sockets = new Set<Socket>();
  let cuts = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      if (cuts > 0 || !chunk.includes('pg_type')) {
        upstream.write(chunk);
        return;
      }
      cuts++;
      if (cut === 'network drop') {
        upstream.destroy();
        return;
      }
      // That backend's client port is this proxy's side of the upstream connection. Its FATAL error and its
      // close reach the client through the proxy, as they would without it; the query is never sent.
      admin`select pg_terminate_backend(pid) from pg_stat_activity where client_port = ${upstream.localPort!}`.catch(
        () => {},
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(serverUrl!);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    cuts: () => cuts,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await admin.end();
    },
  };
}

/** Runs the child (test/support/array-types-child.ts) against `url`: its exit code and what it printed. */
async function runChild(url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const running = spawn(process.execPath, [child], {
    env: { ...process.env, GW_CHILD_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  running.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  running.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => running.kill('SIGKILL'), 45_000);
  const [code] = (await once(running, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const skipped = testBackend === 'postgres' ? '' : ' (skipped on PGlite: no server connection to cut)';

describe.skipIf(testBackend !== 'postgres')(`array types on a server${skipped}`, () => {
  let proxy: CuttingProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it.each<Cut>(['network drop', 'pg_terminate_backend'])(
    'a %s while the pool loads the array types costs neither the process nor the statement',
    async (cut) => {
      proxy = await cuttingProxy(cut);
      const { code, stdout, stderr } = await runChild(proxy.url);
      expect(proxy.cuts(), 'the proxy cut a type load').toBe(1);
      expect(stderr).toBe('');
      expect(code, `the process ended with ${code}:\n${stderr}`).toBe(0);
      expect(JSON.parse(stdout)).toEqual({
        row: { texts: ['a', 'b'], numbers: [1, 2], literal: [1, 2] },
        session: { texts: ['c', 'd'] },
        // The cut statement never reached the server: it was run again, unseen.
        failures: [],
      });
    },
  );
});
