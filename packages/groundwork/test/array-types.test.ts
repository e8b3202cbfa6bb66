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
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { NOT_SENT } from '../src/adapters/postgres-socket.ts';
import { arrayTypesLoader } from '../src/database/array-types.ts';
import { openDatabase } from '../src/database/open.ts';
import { executeRows } from '../src/database/rows.ts';
import { createTestDatabase, testBackend, testSettings } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';
import { unconnected } from './support/postgres-clients.ts';

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

const ID = '6f1c2a3e-8b4d-4f5e-9a6b-7c8d9e0f1a2b';

describe('array parameters and results (both backends)', () => {
  it('sends and reads text[], int4[], uuid[], a two-dimensional and an empty array', async () => {
    const database = await createTestDatabase(notes);
    try {
      const rows = await executeRows(
        database.handle.db,
        sql`select ${sql.param(['a', 'b "c"'])}::text[] as texts,
                   ${sql.param([1, 2])}::int4[] as numbers,
                   ${sql.param([ID])}::uuid[] as ids,
                   array[array[1, 2], array[3, 4]]::int4[] as grid,
                   '{}'::text[] as empty`,
      );
      expect(rows[0]).toEqual({
        texts: ['a', 'b "c"'],
        numbers: [1, 2],
        ids: [ID],
        grid: [
          [1, 2],
          [3, 4],
        ],
        empty: [],
      });
    } finally {
      await database.dispose();
    }
  });
});

describe("a pool's array-type load (both backends)", () => {
  it("reports a load that never reached a server as that server's error", async () => {
    const load = arrayTypesLoader(
      () => unconnected(),
      () => unconnected(),
      2000,
    );
    await expect(load()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

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

  it("fails a load whose connection is lost as never sent (the pool's statement may run again), then loads", async () => {
    const clients: postgres.Sql[] = [];
    const pool = postgres(serverUrl!, { fetch_types: false, onnotice: () => {} });
    const load = arrayTypesLoader(
      () => pool,
      () => {
        const connection = postgres(serverUrl!, { max: 1, fetch_types: false, onnotice: () => {} });
        // The first load's connection is destroyed while it connects, with its query waiting.
        if (clients.length === 0) setImmediate(() => void connection.end({ timeout: 0 }));
        clients.push(connection);
        return connection;
      },
      5000,
    );
    try {
      await expect(load()).rejects.toMatchObject({ code: NOT_SENT, cause: { code: 'CONNECTION_DESTROYED' } });
      await load();
      expect(clients).toHaveLength(2);
      expect(await pool.unsafe('select array[1, 2]::int4[] as numbers')).toEqual([{ numbers: [1, 2] }]);
      // Loaded: no connection is opened again.
      await load();
      expect(clients).toHaveLength(2);
    } finally {
      await Promise.all([pool, ...clients].map((client) => client.end({ timeout: 0 })));
    }
  });

  it('reads the array of an enum created before the pool opened', async () => {
    const database = await createTestDatabase(notes);
    const mood = `gwt_mood_${process.pid}`;
    try {
      await database.handle.db.execute(sql.raw(`create type ${mood} as enum ('calm', 'bright')`));
      const handle = await openDatabase(database.settings, { schema: notes.schema });
      try {
        const rows = await executeRows(
          handle.db,
          sql.raw(`select array['bright', 'calm']::${mood}[] as moods`),
        );
        expect(rows).toEqual([{ moods: ['bright', 'calm'] }]);
      } finally {
        await handle.close();
      }
    } finally {
      await database.dispose();
    }
  });

  it("opens a session as a pool's first use (postgres.js's reserve() waits forever without its own type load)", async () => {
    const handle = await openDatabase(testSettings(notes, { DB_POOL_MAX: '2' }, serverUrl!), {
      schema: notes.schema,
    });
    try {
      const opened = handle.session().then(async (session) => {
        const rows = await session.query<{ numbers: number[] }>('select array[1, 2]::int4[] as numbers');
        await session.release();
        return rows;
      });
      const late = new Promise((resolve) => setTimeout(resolve, 5000, 'no session after 5 s'));
      expect(await Promise.race([opened, late])).toEqual([{ numbers: [1, 2] }]);
    } finally {
      await handle.close();
    }
  });
});
