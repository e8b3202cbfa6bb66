/**
 * Real servers the scale-out tests start through the repository's scripts: PgBouncer (scripts/pgbouncer) and a
 * streaming-replication primary with standbys (scripts/replica). Each runs from its own temporary folder on
 * spare ports, so a benchmark or another run on the default ports is never disturbed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

export const REPO = join(import.meta.dirname, '..', '..', '..', '..');
const SCRIPTS = join(REPO, 'scripts');
const run = promisify(execFile);

/** Why a test needing these programs cannot run here, or undefined when it can. */
export function missingPrograms(...programs: string[]): string | undefined {
  const absent = programs.filter((program) => spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0);
  return absent.length > 0 ? `${absent.join(', ')} not installed` : undefined;
}

/** The PostgreSQL server programs, as scripts/replica finds them. */
export function missingServerPrograms(): string | undefined {
  const found = spawnSync('sh', ['-c', `. ${join(SCRIPTS, 'replica', 'common.sh')}`]);
  return found.status === 0 ? undefined : 'initdb not installed (apt-get install postgresql)';
}

/**
 * Why the tests on a replica cluster (`what`) cannot run here, or undefined: they need the real-server run and
 * the server programs. On a server run a missing program is worth a line of its own, not only a skipped count.
 */
export function replicaTestsSkipped(what: string, ...programs: string[]): string | undefined {
  if (!process.env.TEST_DATABASE_URL) return 'needs TEST_DATABASE_URL (the real-server run)';
  const missing = missingServerPrograms() ?? missingPrograms('pg_basebackup', ...programs);
  if (missing) console.warn(`${what} are skipped: ${missing}`);
  return missing;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `url` with another port, database and, optionally, query parameters. */
export function urlAt(
  url: string,
  port: number,
  database: string,
  params: Record<string, string> = {},
): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  parsed.pathname = `/${database}`;
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value);
  return parsed.toString();
}

export interface Pgbouncer {
  port: number;
  /** The pooler URL of `database`, marked `?pgbouncer=true`. */
  url(database: string): string;
  /** A SHOW command on PgBouncer's admin console (simple protocol only). */
  show(what: 'pools' | 'totals' | 'servers'): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

/**
 * The PgBouncer build that PGBOUNCER_BIN names when it is 1.21 or later (it can keep named statements in
 * transaction mode), or why there is none.
 */
export function newerPgbouncer(): { bin: string } | { skipped: string } {
  const bin = process.env.PGBOUNCER_BIN;
  if (!bin) return { skipped: 'set PGBOUNCER_BIN to a PgBouncer >= 1.21 build' };
  const version = /PgBouncer (\d+)\.(\d+)/.exec(
    spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '',
  );
  if (!version) return { skipped: `PGBOUNCER_BIN=${bin} does not answer --version` };
  const [major, minor] = [Number(version[1]), Number(version[2])];
  return major > 1 || minor >= 21
    ? { bin }
    : { skipped: `PGBOUNCER_BIN=${bin} is PgBouncer ${major}.${minor}, before 1.21` };
}

/**
 * scripts/pgbouncer/start.sh in front of the server of `serverUrl`: Debian's PgBouncer, or the build `bin`
 * names, with max_prepared_statements when given.
 */
export async function startPgbouncer(
  serverUrl: string,
  { bin = 'pgbouncer', maxPreparedStatements }: { bin?: string; maxPreparedStatements?: number } = {},
): Promise<Pgbouncer> {
  const port = await freePort();
  const upstream = new URL(serverUrl);
  const { stdout } = await run(
    join(SCRIPTS, 'pgbouncer', 'start.sh'),
    [String(port), `${upstream.hostname}:${upstream.port || 5432}`],
    {
      env: {
        ...process.env,
        PGBOUNCER_BIN: bin,
        PGBOUNCER_MAX_PREPARED_STATEMENTS: maxPreparedStatements?.toString() ?? '',
      },
    },
  );
  const dir = stdout.trim().split('\n').at(-1)!;
  const admin = postgres(urlAt(serverUrl, port, 'pgbouncer'), {
    max: 1,
    fetch_types: false,
    onnotice: () => {},
  });
  return {
    port,
    url: (database) => urlAt(serverUrl, port, database, { pgbouncer: 'true' }),
    show: async (what) =>
      (await admin.unsafe(`show ${what}`).simple()) as unknown as Record<string, string>[],
    stop: async () => {
      await admin.end({ timeout: 0 });
      await run(join(SCRIPTS, 'pgbouncer', 'stop.sh'), [dir]);
    },
  };
}

export interface ReplicaCluster {
  primaryUrl: string;
  standbyUrls: string[];
  /** Acts on standby `n` (1-based): see scripts/replica/standby.sh. */
  standby(action: 'stop' | 'stop-slowly' | 'pause' | 'resume' | 'start', n: number): Promise<void>;
  stop(): Promise<void>;
}

/** scripts/replica/start.sh: an initdb'd primary and `standbys` streaming standbys, user postgres, trust. */
export async function startReplicaCluster(standbys: number): Promise<ReplicaCluster> {
  const ports = await Promise.all(Array.from({ length: standbys + 1 }, freePort));
  const { stdout } = await run(join(SCRIPTS, 'replica', 'start.sh'), ports.map(String));
  const dir = stdout.trim().split('\n').at(-1)!;
  const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    primaryUrl: url(ports[0]!),
    standbyUrls: ports.slice(1).map(url),
    standby: async (action, n) => {
      await run(join(SCRIPTS, 'replica', 'standby.sh'), [dir, action, String(n)]);
    },
    stop: async () => {
      await run(join(SCRIPTS, 'replica', 'stop.sh'), [dir]);
    },
  };
}
