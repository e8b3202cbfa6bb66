import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseErrorOf } from '../database/connection-errors.ts';

/**
 * What to do about the errors people meet first: the database is down, the password is wrong, the database
 * does not exist, TLS does not agree. The error's own message (redacted) is printed above the hint.
 */
export function hintFor(error: unknown): string | undefined {
  const found = databaseErrorOf(error) ?? error;
  const code = (found as { code?: string })?.code;
  const where = addressOf(found);
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing listens at ${where ?? 'the database address'}: start PostgreSQL (docker compose up -d) or fix DATABASE_URL`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the database host name does not resolve: check the host in DATABASE_URL';
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
      return `no answer from ${where ?? 'the database'}: check the host, the port and any firewall (DB_CONNECT_TIMEOUT_MS sets the wait)`;
    case '28P01':
    case '28000':
      return 'authentication failed: check the user and password in DATABASE_URL, and that pg_hba.conf lets this user in from here';
    case '3D000':
      return 'the database does not exist: create it (createdb <name>, or CREATE DATABASE) or fix its name in DATABASE_URL';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return "the server's certificate does not name this host: connect by the name on the certificate (sslmode=verify-full)";
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return "the server's certificate is not signed by a CA this process trusts: set sslrootcert=<ca.pem> (your provider's CA) with sslmode=verify-full";
    default:
      return /server does not support SSL|SSL off/i.test(String((error as Error)?.message))
        ? 'the server does not accept TLS: use sslmode=disable only on a trusted network, or enable ssl on the server'
        : undefined;
  }
}

function addressOf(error: unknown): string | undefined {
  const { address, port } = error as { address?: string; port?: number };
  return address ? `${address}${port ? `:${port}` : ''}` : undefined;
}

/** This library's own code: src/ when run from source, dist/ when installed. */
const LIBRARY_DIR = resolve(import.meta.dirname, '..');

/**
 * Where in the user's own code an error arose (`file:line:column`): the first stack frame outside Node, this
 * package and node_modules. A typo in schema.ts otherwise surfaces deep inside drizzle-kit.
 */
export function placeInUserCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    for (const match of (current.stack ?? '').matchAll(/[\s(](file:\/\/[^\s)]+|\/[^\s():]+):(\d+):(\d+)/g)) {
      const file = match[1]!.startsWith('file:') ? fileURLToPath(match[1]!) : match[1]!;
      if (!file.includes('/node_modules/') && !file.startsWith(LIBRARY_DIR))
        return `${file}:${match[2]}:${match[3]}`;
    }
    current = current.cause;
  }
  return undefined;
}
