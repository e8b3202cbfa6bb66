import { EventEmitter } from 'node:events';
import { isIP, Socket } from 'node:net';
import * as tls from 'node:tls';

/**
 * Relies on: postgres.js 3.4 calling its `socket` option once per connection attempt and then using only
 * `on`/`once`/`removeListener`/`removeAllListeners`, `write(chunk)`, `end(data)`, `destroy()`, `readyState`,
 * `setKeepAlive`, `pause`/`resume` and the `data`, `error` and `close` events; it writes its startup message
 * right after the socket is handed over.
 *
 * Why: postgres.js batches small writes behind a `setImmediate`, and its `closed()` cancels that immediate
 * without forgetting it (porsager/postgres 3.4.9, src/connection.js `write`/`closed`). A connection whose
 * socket closes while a write waits is left with a "scheduled" flag that nothing clears: every later attempt
 * buffers its startup message and never sends it, and hangs until `connect_timeout`, for the life of the pool.
 * Under load that is a steady share of the pool lost to 5 s stalls after a server went away once.
 *
 * So postgres.js never hears `close` while it may have a write waiting. When an established connection's server
 * goes away, the statements in flight are failed at once (`error`), and the connection is handed back to
 * postgres.js's pool as idle (the rest of any message cut off, then a ReadyForQuery, fed to its parser), so
 * it is not left waiting for an answer; `close` comes only from inside postgres.js's next write (its flush:
 * nothing can be waiting then), or when it ends or destroys the socket. The bytes of that next write never
 * reach a server, and the error says so (`NOT_SENT`): the one case where any statement, whatever its text,
 * may be run again.
 *
 * TLS is negotiated here (SSLRequest, then `tls.connect` over the socket), so postgres.js is given
 * `ssl: false` and sees a plain stream either way.
 *
 * The pools load array types themselves (postgres-array-types.ts), so postgres.js runs with `fetch_types:
 * false`, and then `reserve()` on a connection it opens for it never settles (porsager/postgres#751): after the
 * startup's ReadyForQuery it neither runs a statement nor offers the connection to its pool. Right after that
 * ReadyForQuery the socket reports `drain`, on which postgres.js offers a connection with nothing in flight
 * (`!query && onopen(connection)`); with a statement in flight it does nothing. A target's `ready` is
 * awaited before connecting (the array types); its failure is the connection's.
 *
 * Written for postgres 3.4.9: test/adapters/postgres-socket.test.ts pins the version, shows the stall with
 * postgres.js's own socket and none with this one.
 */

export const NOT_SENT = 'GW_NOT_SENT';

export class NotSentError extends Error {
  readonly code = NOT_SENT;
  constructor() {
    super('the connection was lost before this statement was sent; it never reached the server');
  }
}

export interface SocketTarget {
  host: string;
  port: number;
  /** false, libpq's prefer/require (TLS unverified; prefer falls back to plain), or tls.connect options. */
  ssl: false | 'prefer' | 'require' | tls.ConnectionOptions;
  /** Awaited before connecting. */
  ready?: () => Promise<void>;
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);

function connectionClosed(target: { host: string; port: number }): Error {
  return Object.assign(new Error(`the server closed the connection (${target.host}:${target.port})`), {
    code: 'CONNECTION_CLOSED',
  });
}

/** Opens the stream postgres.js will talk over: TCP or a Unix socket, with TLS when the target asks. */
async function open(target: SocketTarget): Promise<Socket> {
  const raw = new Socket();
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.once('connect', () => {
      raw.off('error', reject);
      resolve();
    });
    if (target.host.startsWith('/')) raw.connect(`${target.host}/.s.PGSQL.${target.port}`);
    else raw.connect(target.port, target.host);
  });
  if (!target.ssl) return raw;
  raw.write(SSL_REQUEST);
  const answer = await new Promise<number>((resolve, reject) => {
    raw.once('error', reject);
    raw.once('close', () => reject(connectionClosed(target)));
    raw.once('data', (data: Buffer) => resolve(data[0]!));
  });
  raw.removeAllListeners();
  if (answer !== 83 /* S */) {
    if (target.ssl === 'prefer') return raw;
    raw.destroy();
    throw Object.assign(new Error('the server does not support TLS, which the connection requires'), {
      code: 'GW_TLS_REFUSED',
    });
  }
  const secured = tls.connect({
    socket: raw,
    ...(isIP(target.host) || target.host.startsWith('/') ? {} : { servername: target.host }),
    ...(typeof target.ssl === 'object' ? target.ssl : { rejectUnauthorized: false }),
  });
  await new Promise<void>((resolve, reject) => {
    secured.once('error', reject);
    secured.once('secureConnect', () => {
      secured.off('error', reject);
      resolve();
    });
  });
  return secured;
}

/** Message type of the server's ReadyForQuery: the first one ends the startup. */
const READY_FOR_QUERY = 90;
/** ReadyForQuery, transaction status idle. */
const READY_IDLE = Buffer.from([READY_FOR_QUERY, 0, 0, 0, 5, 73]);
const NO_BYTES = Buffer.alloc(0);

/** The socket postgres.js is given (see the header). */
class GuardedSocket extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readyState: 'opening' | 'open' | 'closed' = 'open';
  #inner: Socket | undefined;
  /** What postgres.js wrote before the stream was open. */
  #early: Buffer[] = [];
  #keepAlive: [boolean, number] | undefined;
  /** Why the stream is gone, once it is. */
  #gone: Error | undefined;
  #reported = false;
  /** postgres.js ended or destroyed it: the inner stream's close is the close it waits for. */
  #ending = false;
  #closed = false;
  #written = false;
  /** The first ReadyForQuery has come: the startup is over. */
  #established = false;
  /** Where the server's stream stands: the start of a message split across reads, or body bytes to come. */
  #header = NO_BYTES;
  #remaining = 0;

  constructor(target: SocketTarget) {
    super();
    this.host = target.host;
    this.port = target.port;
    (target.ready ? target.ready().then(() => open(target)) : open(target)).then(
      (inner) => this.#attach(inner),
      (error: Error) => this.#lost(error),
    );
  }

  write(chunk: Buffer | Uint8Array): boolean {
    if (this.#closed) return false;
    this.#written = true;
    if (this.#gone) {
      // Nothing of this reached a server. Called from postgres.js's flush: closing now leaves nothing waiting.
      this.emit('error', this.#reported ? new NotSentError() : this.#gone);
      this.#reported = true;
      this.#close(true);
      return false;
    }
    if (!this.#inner) {
      this.#early.push(Buffer.from(chunk));
      return true;
    }
    return this.#inner.write(chunk);
  }

  end(data?: Buffer | Uint8Array): this {
    this.#ending = true;
    if (this.#inner && !this.#gone) data ? this.#inner.end(data) : this.#inner.end();
    else process.nextTick(() => this.#close(false));
    return this;
  }

  destroy(): this {
    this.#ending = true;
    this.#inner?.destroy();
    process.nextTick(() => this.#close(false));
    return this;
  }

  setKeepAlive(enable: boolean, delayMs: number): this {
    this.#keepAlive = [enable, delayMs];
    this.#inner?.setKeepAlive(enable, delayMs);
    return this;
  }

  pause(): this {
    this.#inner?.pause();
    return this;
  }

  resume(): this {
    this.#inner?.resume();
    return this;
  }

  #attach(inner: Socket): void {
    if (this.#ending) {
      inner.destroy();
      return;
    }
    this.#inner = inner;
    if (this.#keepAlive) inner.setKeepAlive(...this.#keepAlive);
    inner.on('data', (data: Buffer) => {
      const starting = !this.#established;
      this.#frame(data);
      this.emit('data', data);
      // The startup is over: a connection opened for reserve() is offered to it (see the header).
      if (starting && this.#established && !this.#gone) this.emit('drain');
    });
    inner.on('drain', () => this.emit('drain'));
    inner.on('error', (error: Error) => this.#lost(error));
    inner.on('close', () => (this.#ending ? this.#close(false) : this.#lost(connectionClosed(this))));
    for (const chunk of this.#early.splice(0)) inner.write(chunk);
  }

  /** Follows the server's message boundaries (type, then a length that counts itself). */
  #frame(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      if (this.#remaining > 0) {
        const skipped = Math.min(this.#remaining, data.length - at);
        this.#remaining -= skipped;
        at += skipped;
        continue;
      }
      let header: Buffer;
      if (this.#header.length === 0 && data.length - at >= 5) {
        header = data.subarray(at, at + 5);
        at += 5;
      } else {
        const taken = Math.min(5 - this.#header.length, data.length - at);
        this.#header = Buffer.concat([this.#header, data.subarray(at, at + taken)]);
        at += taken;
        if (this.#header.length < 5) return;
        header = this.#header;
        this.#header = NO_BYTES;
      }
      if (header[0] === READY_FOR_QUERY) this.#established = true;
      this.#remaining = header.readUInt32BE(1) - 4;
    }
  }

  /** Bytes that end the message the server was cut off in, so postgres.js's parser reads what follows. */
  #restOfMessage(): Buffer {
    if (this.#header.length === 0) return Buffer.alloc(this.#remaining);
    const header = Buffer.alloc(5);
    this.#header.copy(header);
    if (header.readUInt32BE(1) < 4) header[4] = 4;
    return Buffer.concat([header.subarray(this.#header.length), Buffer.alloc(header.readUInt32BE(1) - 4)]);
  }

  #lost(error: Error): void {
    if (this.#gone || this.#ending) return;
    this.#gone = error;
    this.#inner?.destroy();
    // Before postgres.js's first write its startup message may be waiting: the error waits for that write.
    if (!this.#written) return;
    this.emit('error', error);
    this.#reported = true;
    if (this.#established) {
      // Idle again as far as postgres.js knows; its next use writes, and that write closes it.
      this.emit('data', Buffer.concat([this.#restOfMessage(), READY_IDLE]));
    } else {
      // While starting, postgres.js writes only in answer to the server, which has stopped: nothing waits.
      setImmediate(() => this.#close(true));
    }
  }

  #close(hadError: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.readyState = 'closed';
    this.emit('close', hadError);
  }
}

/** postgres.js's `socket` option for one server. */
export function guardedSocket(target: SocketTarget): () => GuardedSocket {
  return () => new GuardedSocket(target);
}
