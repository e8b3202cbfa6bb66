import cluster, { type Worker } from 'node:cluster';
import type { Server as HttpServer } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface ClusterOptions {
  /** How many workers to keep running. */
  workers: number;
  log: (line: string) => void;
  /** A worker that crashes within this long of listening counts as crashing at start (default 10 s). */
  stableAfterMs?: number;
  /** First delay before replacing a worker that crashed at start; doubles each time, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

interface Slot {
  worker: Worker;
  listeningAt?: number;
  /** Set when the primary asked it to stop, so its exit is not a crash. */
  retiring?: boolean;
  /** A rolling-restart replacement not yet listening: if it dies, the old worker keeps serving instead. */
  spare?: boolean;
}

/**
 * The primary of `serve --workers N`: forks N copies of this command (each a complete single-process server
 * sharing the port through node:cluster), replaces a crashed one with backoff, drains all on SIGTERM/SIGINT,
 * and on SIGHUP restarts them one at a time (new one listening before the old one drains).
 * Resolves with the exit code once every worker has exited after a shutdown signal.
 */
export function runPrimary(options: ClusterOptions): Promise<number> {
  const primary = new Primary(options);
  process.on('SIGTERM', () => primary.stop('SIGTERM'));
  process.on('SIGINT', () => primary.stop('SIGINT'));
  process.on('SIGHUP', () => void primary.rollingRestart());
  for (let i = 0; i < options.workers; i++) primary.fork();
  return primary.done;
}

/** The primary's workers and what it knows of them: which crashed lately, whether it is stopping. */
class Primary {
  /** The exit code, once every worker has exited after stop(). */
  readonly done: Promise<number>;
  #finish!: (code: number) => void;
  readonly #log: (line: string) => void;
  readonly #stableAfterMs: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #slots = new Map<number, Slot>();
  /** Replacements waiting out their backoff; cancelled by stop(). */
  readonly #pendingForks = new Set<NodeJS.Timeout>();
  /** Workers in a row that crashed soon after listening: the exponent of the next replacement's delay. */
  #crashStreak = 0;
  #everListened = false;
  #stopping = false;
  #restarting = false;
  #exitCode = 0;

  constructor(options: ClusterOptions) {
    this.#log = options.log;
    this.#stableAfterMs = options.stableAfterMs ?? 10_000;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.done = new Promise<number>((resolve) => {
      this.#finish = resolve;
    });
  }

  fork(): Slot {
    const slot: Slot = { worker: cluster.fork() };
    this.#slots.set(slot.worker.id, slot);
    slot.worker.once('listening', () => {
      slot.listeningAt = Date.now();
      this.#everListened = true;
      this.#log(`worker ${slot.worker.id} (pid ${slot.worker.process.pid}) listening`);
    });
    slot.worker.once('exit', (code, signal) => this.#onExit(slot, code, signal));
    return slot;
  }

  stop(reason: string, code = 0): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#exitCode = code;
    for (const timer of this.#pendingForks) clearTimeout(timer);
    this.#log(`${reason}: draining ${this.#slots.size} worker(s)`);
    if (this.#slots.size === 0) this.#finish(this.#exitCode);
    for (const slot of this.#slots.values()) slot.worker.process.kill('SIGTERM');
  }

  async rollingRestart(): Promise<void> {
    if (this.#restarting || this.#stopping) return;
    this.#restarting = true;
    this.#log(`SIGHUP: restarting ${this.#slots.size} worker(s) one at a time`);
    try {
      for (const old of [...this.#slots.values()]) {
        if (this.#stopping) return;
        if (old.retiring || !this.#slots.has(old.worker.id)) continue;
        if (!(await this.#startSpare())) {
          // Keep the old worker serving: a new one that cannot start must not cost capacity.
          this.#log('rolling restart stopped: the new worker exited before listening');
          return;
        }
        await retire(old);
      }
      this.#log('rolling restart done');
    } finally {
      this.#restarting = false;
    }
  }

  /** Forks a replacement and resolves true once it listens, false if it exits first. */
  async #startSpare(): Promise<boolean> {
    const next = this.fork();
    next.spare = true;
    const started = await new Promise<boolean>((resolve) => {
      next.worker.once('listening', () => resolve(true));
      next.worker.once('exit', () => resolve(false));
    });
    next.spare = false;
    return started;
  }

  #onExit(slot: Slot, code: number | null, signal: string | null): void {
    this.#slots.delete(slot.worker.id);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.#stopping || slot.retiring) {
      // Exit 1 from a draining worker means its SHUTDOWN_TIMEOUT_MS struck: report it as the primary's code.
      if (code !== 0 && slot.listeningAt) this.#exitCode = 1;
      this.#log(`worker ${slot.worker.id} stopped (${how})`);
      if (this.#stopping && this.#slots.size === 0) this.#finish(this.#exitCode);
      return;
    }
    if (slot.spare) {
      this.#log(`worker ${slot.worker.id} exited before listening (${how})`);
      return;
    }
    if (!this.#everListened) {
      // Not one worker ever started: the same failure a single process would report, so stop rather than retry.
      this.#log(`worker ${slot.worker.id} failed to start (${how}); stopping`);
      this.stop('startup failure', 1);
      return;
    }
    this.#replaceCrashed(slot, how);
  }

  /** Forks a replacement for a crashed worker, at once if it had run a while, after a growing delay if not. */
  #replaceCrashed(slot: Slot, how: string): void {
    const lived = slot.listeningAt ? Date.now() - slot.listeningAt : 0;
    this.#crashStreak = lived >= this.#stableAfterMs ? 0 : this.#crashStreak + 1;
    const wait =
      this.#crashStreak === 0
        ? 0
        : Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** (this.#crashStreak - 1));
    this.#log(`worker ${slot.worker.id} died (${how}); replacing it in ${wait} ms`);
    const timer = setTimeout(() => {
      this.#pendingForks.delete(timer);
      if (!this.#stopping) this.fork();
    }, wait);
    this.#pendingForks.add(timer);
  }
}

/** Asks a worker to drain (serve's single-process shutdown path, on SIGTERM) and resolves once it exited. */
function retire(slot: Slot): Promise<void> {
  slot.retiring = true;
  const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
  slot.worker.process.kill('SIGTERM');
  return exited;
}

/**
 * In a worker, before draining: stops taking connections from the primary, then waits (up to graceMs) for
 * busy keep-alive connections to close after their next response (the caller sends `Connection: close`).
 * Closing an idle keep-alive socket races a client that is reusing it; after this, the ones left are truly idle.
 */
export async function handOff(server: HttpServer, graceMs: number): Promise<void> {
  // net's close, not http's: http's also closes idle keep-alive sockets at once, the race this avoids.
  NetServer.prototype.close.call(server);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (await openConnections(server)) > 0) await delay(25);
}

const openConnections = (server: HttpServer) =>
  new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count ?? 0)));
