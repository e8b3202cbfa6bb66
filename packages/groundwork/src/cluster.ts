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
  const { workers: count, log } = options;
  const stableAfterMs = options.stableAfterMs ?? 10_000;
  const backoffMs = options.backoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const slots = new Map<number, Slot>();
  let crashStreak = 0;
  let everListened = false;
  let stopping = false;
  let restarting = false;
  let exitCode = 0;
  const pendingForks = new Set<NodeJS.Timeout>();

  let finish: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const fork = (): Slot => {
    const slot: Slot = { worker: cluster.fork() };
    slots.set(slot.worker.id, slot);
    slot.worker.once('listening', () => {
      slot.listeningAt = Date.now();
      everListened = true;
      log(`worker ${slot.worker.id} (pid ${slot.worker.process.pid}) listening`);
    });
    slot.worker.once('exit', (code, signal) => onExit(slot, code, signal));
    return slot;
  };

  const onExit = (slot: Slot, code: number | null, signal: string | null) => {
    slots.delete(slot.worker.id);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping || slot.retiring) {
      // Exit 1 from a draining worker means its SHUTDOWN_TIMEOUT_MS struck: report it as the primary's code.
      if (code !== 0 && slot.listeningAt) exitCode = 1;
      log(`worker ${slot.worker.id} stopped (${how})`);
      if (stopping && slots.size === 0) finish(exitCode);
      return;
    }
    if (slot.spare) {
      log(`worker ${slot.worker.id} exited before listening (${how})`);
      return;
    }
    if (!everListened) {
      // Not one worker ever started: the same failure a single process would report, so stop rather than retry.
      log(`worker ${slot.worker.id} failed to start (${how}); stopping`);
      stop('startup failure', 1);
      return;
    }
    const lived = slot.listeningAt ? Date.now() - slot.listeningAt : 0;
    crashStreak = lived >= stableAfterMs ? 0 : crashStreak + 1;
    const wait = crashStreak === 0 ? 0 : Math.min(maxBackoffMs, backoffMs * 2 ** (crashStreak - 1));
    log(`worker ${slot.worker.id} died (${how}); replacing it in ${wait} ms`);
    const timer = setTimeout(() => {
      pendingForks.delete(timer);
      if (!stopping) fork();
    }, wait);
    pendingForks.add(timer);
  };

  const retire = (slot: Slot): Promise<void> => {
    slot.retiring = true;
    const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
    // The worker's own SIGTERM handler drains it (serve's single-process shutdown path).
    slot.worker.process.kill('SIGTERM');
    return exited;
  };

  const stop = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of pendingForks) clearTimeout(timer);
    log(`${reason}: draining ${slots.size} worker(s)`);
    if (slots.size === 0) finish(exitCode);
    for (const slot of slots.values()) slot.worker.process.kill('SIGTERM');
  };

  const rollingRestart = async () => {
    if (restarting || stopping) return;
    restarting = true;
    log(`SIGHUP: restarting ${slots.size} worker(s) one at a time`);
    try {
      for (const old of [...slots.values()]) {
        if (stopping) return;
        if (old.retiring || !slots.has(old.worker.id)) continue;
        const next = fork();
        next.spare = true;
        const started = await new Promise<boolean>((resolve) => {
          next.worker.once('listening', () => resolve(true));
          next.worker.once('exit', () => resolve(false));
        });
        next.spare = false;
        if (!started) {
          // Keep the old worker serving: a new one that cannot start must not cost capacity.
          log('rolling restart stopped: the new worker exited before listening');
          return;
        }
        await retire(old);
      }
      log('rolling restart done');
    } finally {
      restarting = false;
    }
  };

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void rollingRestart());
  for (let i = 0; i < count; i++) fork();
  return done;
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
