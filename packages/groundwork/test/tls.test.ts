import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAdminConnection } from '../src/database/admin.ts';
import { backupDatabase } from '../src/database/backup.ts';
import { openDatabase } from '../src/database/open.ts';
import { serverConnection, TlsSettingsError } from '../src/database/postgres.ts';
import { testSettings } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';
import { postgresToolsAvailable, startTlsServer, type TlsServer } from './support/tls-server.ts';

const available = postgresToolsAvailable();
if (!available) console.warn('tls.test.ts skipped: pg_config/initdb or openssl is not installed');

let server: TlsServer;
const work = mkdtempSync(join(tmpdir(), 'gw-tls-test-'));
beforeAll(async () => {
  if (available) server = await startTlsServer();
}, 120_000);
afterAll(() => {
  server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Whether the connection `url` describes is encrypted, as the server sees it; rejects when refused. */
const encrypted = (url: string) =>
  withAdminConnection(url, async (sql) => {
    const [row] = await sql<{ ssl: boolean }[]>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    return row!.ssl;
  });

describe.runIf(available)('sslmode against a TLS server', () => {
  it('verify-full connects encrypted with the CA that issued the certificate and refuses another CA', async () => {
    // Also proves sslrootcert is not sent to the server as a setting (that fails with 42704).
    expect(
      await encrypted(server.url('localhost', { sslmode: 'verify-full', sslrootcert: server.caFile })),
    ).toBe(true);
    await expect(
      encrypted(server.url('localhost', { sslmode: 'verify-full', sslrootcert: server.otherCaFile })),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('verify-full refuses a host the certificate was not issued for; verify-ca accepts it', async () => {
    await expect(
      encrypted(server.url('127.0.0.1', { sslmode: 'verify-full', sslrootcert: server.caFile })),
    ).rejects.toThrow(/altnames|does not match|IP: 127\.0\.0\.1/i);
    expect(
      await encrypted(server.url('127.0.0.1', { sslmode: 'verify-ca', sslrootcert: server.caFile })),
    ).toBe(true);
  });

  it('require encrypts without checking the certificate, and checks it against sslrootcert when given (libpq)', async () => {
    expect(await encrypted(server.url('localhost', { sslmode: 'require' }))).toBe(true);
    expect(await encrypted(server.url('localhost', { sslmode: 'prefer' }))).toBe(true);
    expect(await encrypted(server.url('localhost', { sslmode: 'disable' }))).toBe(false);
    await expect(
      encrypted(server.url('localhost', { sslmode: 'require', sslrootcert: server.otherCaFile })),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('the app pool and pg_dump agree: verify-full with the right CA works, with another CA it is refused', async () => {
    const good = testSettings(
      notes,
      {},
      server.url('localhost', { sslmode: 'verify-full', sslrootcert: server.caFile }),
    );
    const handle = await openDatabase(good, { schema: {} });
    try {
      const session = await handle.session();
      const [row] = await session.query<{ ssl: boolean }>(
        'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
      );
      await session.release();
      expect(row!.ssl).toBe(true);
    } finally {
      await handle.close();
    }
    const bad = testSettings(
      notes,
      {},
      server.url('localhost', { sslmode: 'verify-full', sslrootcert: server.otherCaFile }),
    );
    const refused = await openDatabase(bad, { schema: {} });
    try {
      await expect(refused.ping(5000)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    } finally {
      await refused.close();
    }
    const settings = (ca: string) => ({
      databaseUrl: server.url('localhost', { sslmode: 'verify-full', sslrootcert: ca }),
      dataDir: '',
    });
    const file = join(work, 'tls.dump');
    expect((await backupDatabase(settings(server.caFile), file)).bytes).toBeGreaterThan(0);
    await expect(backupDatabase(settings(server.otherCaFile), file)).rejects.toThrow(
      /certificate verify failed/i,
    );
  });
});

describe('sslmode in production', () => {
  it('warns once, naming the risk, for modes that do not verify the server on a remote host', async () => {
    const lines: string[] = [];
    for (const app of ['a', 'b']) {
      const settings = {
        ...testSettings(notes, {}, 'postgres://app@db.example.com:5432/app?sslmode=require'),
        appName: app,
        nodeEnv: 'production' as const,
      };
      const handle = await openDatabase(settings, { schema: {}, log: (line) => lines.push(line) });
      await handle.close();
    }
    expect(lines).toEqual([
      expect.stringMatching(/sslmode=require does not verify.*man in the middle.*verify-full/),
    ]);
  });

  it('rejects an unknown sslmode and sslrootcert=system with a weaker mode, as libpq does', () => {
    expect(() => serverConnection('postgres://h/db?sslmode=verify')).toThrow(TlsSettingsError);
    expect(() => serverConnection('postgres://h/db?sslmode=require&sslrootcert=system')).toThrow(
      /verify-full/,
    );
    expect(serverConnection('postgres://h/db?sslrootcert=system').sslMode).toBe('verify-full');
    expect(serverConnection('postgres://h/db').sslMode).toBe('prefer');
  });
});
