import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL with `ssl = on`, its certificate issued for `localhost` (not 127.0.0.1) by a CA made
 * here, plus a second, unrelated CA. Run as the `postgres` user when we are root (initdb refuses root).
 */
export interface TlsServer {
  port: number;
  /** The CA that signed the server's certificate. */
  caFile: string;
  /** A CA that signed nothing the server has. */
  otherCaFile: string;
  url(host: 'localhost' | '127.0.0.1', params: Record<string, string>): string;
  stop(): void;
}

const binDir = (): string => execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();

export function postgresToolsAvailable(): boolean {
  try {
    binDir();
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}

function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=groundwork test ${name}`,
    ],
    dir,
  );
}

export async function startTlsServer(): Promise<TlsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
  chmodSync(dir, 0o755);
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'server.ext',
      '-out',
      'server.crt',
    ],
    dir,
  );

  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const asRoot = userInfo().uid === 0;
  const owner = asRoot ? Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })) : undefined;
  const run = (program: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(binDir(), program),
      asRoot ? ['-u', 'postgres', '--', join(binDir(), program), ...args] : args,
      { stdio: 'pipe' },
    );
  if (owner !== undefined) chownSync(data, owner, owner);
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  for (const file of ['server.crt', 'server.key']) {
    copyFileSync(join(dir, file), join(data, file));
    chmodSync(join(data, file), 0o600);
    if (owner !== undefined) chownSync(join(data, file), owner, owner);
  }
  const port = await sparePort();
  appendFileSync(
    join(data, 'postgresql.conf'),
    `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${data}'\nfsync = off\n` +
      "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
  );
  run('pg_ctl', ['-D', data, '-l', join(data, 'server.log'), '-w', 'start']);
  return {
    port,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    url: (host, params) => `postgres://postgres@${host}:${port}/postgres?${new URLSearchParams(params)}`,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
