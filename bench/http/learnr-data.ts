import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import type { RequestShape } from './wrk.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'packages', 'groundwork', 'bin', 'groundwork.js');

/** How many users the benches give learnr and rnd-cards. */
export const USERS = 10_000;

/** learnr's requests as the benches send them: `id` is the user the request is for. */
export const shapes: Record<'GET user' | 'PATCH user' | 'list' | 'health', RequestShape> = {
  'GET user': { method: 'GET', path: "'/api/v1/users/' .. id" },
  'PATCH user': {
    method: 'PATCH',
    path: "'/api/v1/users/' .. id",
    body: `'{"target_score":' .. math.random(0, 100) .. '}'`,
  },
  list: { method: 'GET', path: `'/api/v1/users?limit=20&offset=' .. math.random(0, ${USERS - 20})` },
  health: { method: 'GET', path: "'/api/v1/health'" },
};

/**
 * A fresh database `name` on the server `admin` is connected to (`serverUrl`), at head of the migrations of
 * the app in `appDir`; answers its URL.
 */
export async function appDatabase(
  admin: postgres.Sql,
  serverUrl: string,
  name: string,
  appDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const url = Object.assign(new URL(serverUrl), { pathname: `/${name}` }).href;
  await run(process.execPath, [BIN, 'db', 'upgrade'], { cwd: appDir, env: { ...env, DATABASE_URL: url } });
  return url;
}

/** Fills learnr's users table with USERS users, a second apart, all with `passwordHash`; answers their ids. */
export async function seedLearnrUsers(url: string, passwordHash: string): Promise<string[]> {
  const db = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await db`insert into users (email, hashed_password, target_score, created_at)
             select 'user' || g || '@bench.test', ${passwordHash}, g % 101, now() - g * interval '1 second'
               from generate_series(1, ${USERS}) g`;
    return (await db<{ id: string }[]>`select id from users`).map((r) => r.id);
  } finally {
    await db.end();
  }
}
