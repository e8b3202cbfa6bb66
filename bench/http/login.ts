import { request } from 'node:http';

/** Logins sent from one loopback address: under the login route's per-IP limit per minute. */
const LOGINS_PER_ADDRESS = 10;
/** Logins in flight at once (each costs an argon2id verification on the server's thread pool). */
const CONCURRENCY = 4;

function post(url: URL, body: string, localAddress: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const call = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

/**
 * Logs each account in through the app's real login route and answers the session tokens, in order. The
 * route limits attempts per client address, so the logins come from loopback addresses 127.0.0.2 and up
 * (on Linux all of 127.0.0.0/8 is this machine), a few from each.
 */
export async function logIn(
  loginUrl: string,
  accounts: { email: string; password: string }[],
): Promise<string[]> {
  const tokens: string[] = new Array(accounts.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < accounts.length; index = next++) {
      const address = `127.0.0.${2 + Math.floor(index / LOGINS_PER_ADDRESS)}`;
      const { status, text } = await post(new URL(loginUrl), JSON.stringify(accounts[index]), address);
      if (status !== 200) throw new Error(`login of ${accounts[index]!.email} answered ${status}: ${text}`);
      tokens[index] = (JSON.parse(text) as { token: string }).token;
    }
  };
  if (accounts.length > 253 * LOGINS_PER_ADDRESS) {
    throw new Error(
      `at most ${253 * LOGINS_PER_ADDRESS} logins: one loopback address per ${LOGINS_PER_ADDRESS}`,
    );
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return tokens;
}
