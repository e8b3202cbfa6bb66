import cluster from 'node:cluster';
import { handOff, runPrimary } from '../../cluster.ts';
import type { Settings } from '../../config.ts';
import { MigrationError } from '../../migrations/runner.ts';
import {
  aggregateWorkers,
  joinClusterMetrics,
  listenForScrapes,
  scrape,
} from '../../observability/exposition.ts';
import { findRoot } from '../../workspace.ts';
import { enclosingAppDir, resolveAllApps, resolveApp, servedAppDirs } from '../apps.ts';
import { defineCommand } from '../command.ts';
import { UsageError } from '../output.ts';

/** How long a stopping worker lets busy keep-alive connections finish their next request before draining. */
const HANDOFF_GRACE_MS = 2000;

function parseWorkers(value: string | undefined): number {
  if (value === undefined) return 1;
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UsageError(`--workers must be a whole number of at least 1, got "${value}"`);
  }
  return workers;
}

export const serveCommand = defineCommand({
  name: 'serve',
  summary:
    'serve one app at / (named, or the app folder you are in); from the repository root, every app under /<app>/ with an index at /',
  usage: 'serve [app] [--migrate] [--workers N]',
  options: {
    migrate: {
      type: 'boolean',
      description: 'upgrade to head before serving (MIGRATE_ON_START=true does the same)',
    },
    workers: {
      type: 'string',
      description:
        'processes sharing the port (node:cluster; default 1); SIGTERM drains all, SIGHUP restarts them one at a time; needs DATABASE_URL',
    },
  },
  examples: [
    'groundwork serve                  # in an app folder: that app at /; at the repository root: every app',
    'groundwork serve learnr --migrate',
    'groundwork serve learnr --workers 2   # one port, two processes; kill -HUP <pid> for a rolling restart',
    'node node_modules/groundwork-pg/bin/groundwork.js serve   # production: signals reach the server',
  ],
  async run({ values, positionals }, out) {
    const { loadSettings, readEnv } = await import('../../config.ts');
    // Before the server's modules load: PGlite's files are read and its module compiled on other threads
    // meanwhile, when an app served here opens an embedded database (no DATABASE_URL, as its settings read
    // it). A failure is left to that app's open, which tries again and reports it.
    if (servedAppDirs(positionals[0]).some((dir) => !readEnv(dir).DATABASE_URL?.trim())) {
      import('../../database/pglite-runtime.ts').then(({ pgliteRuntime }) => pgliteRuntime()).catch(() => {});
    }
    const [{ buildServer, drainAndClose }, { startApp, startApps }] = await Promise.all([
      import('../../server.ts'),
      import('../../runtime.ts'),
    ]);
    const single = positionals[0] || enclosingAppDir() ? await resolveApp(positionals[0]) : undefined;
    const definitions = single ? [single] : await resolveAllApps();
    const settings = loadSettings({
      appName: single?.name ?? 'groundwork',
      appDir: single?.dir ?? findRoot(),
      defaults: single?.defaults,
    });
    const workers = parseWorkers(values.workers);
    const migrate = values.migrate ? true : undefined;
    if (workers > 1 && cluster.isPrimary) {
      if (!settings.databaseUrl) {
        throw new UsageError(
          `--workers ${workers} needs a PostgreSQL server: the embedded PGlite database is single-process (one process opens its data directory). Set DATABASE_URL, or serve with one worker.`,
        );
      }
      // Migrate once (--migrate or MIGRATE_ON_START), before forking, rather than N workers queueing on the lock.
      for (const definition of definitions) {
        try {
          const app = await startApp(definition, { sharedServer: !single, migrate, log: out.line });
          await app.handle.close();
        } catch (error) {
          if (single || !(error instanceof MigrationError)) throw error;
          out.line(`${definition.name}: migration failed, serving it as not ready: ${error.message}`);
        }
      }
      if (settings.metrics.enabled) {
        const aggregate = await aggregateWorkers();
        if (settings.metrics.port) await scrapeListener(settings, aggregate, out.line);
      }
      return runPrimary({ workers, log: out.line });
    }
    // A worker: SIGHUP belongs to the primary (rolling restart); its default action would kill the worker.
    if (cluster.isWorker) process.on('SIGHUP', () => {});
    if (cluster.isWorker && settings.metrics.enabled) await joinClusterMetrics();
    // Workers never migrate: their primary did before forking them.
    const options = { sharedServer: !single, migrate: cluster.isWorker ? false : migrate, log: out.line };
    const apps = single
      ? [await startApp(single, options)]
      : await startApps(definitions, {
          ...options,
          onMigrationFailed: (name, error) =>
            out.line(`${name}: migration failed, serving it as not ready: ${error.message}`),
        });
    const server = await buildServer(apps, {
      logLevel: settings.logLevel,
      mount: single ? 'root' : 'prefixed',
    });
    let closing = false;
    server.addHook('onSend', async (_request, reply, payload) => {
      if (closing) reply.header('connection', 'close');
      return payload;
    });
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      server.log.info(
        { signal, timeoutMs: settings.shutdownTimeoutMs },
        'shutting down: finishing in-flight requests',
      );
      // A worker hands its clients to the others first: no client should see its keep-alive socket reset.
      if (cluster.isWorker) await handOff(server.server, HANDOFF_GRACE_MS);
      try {
        const outcome = await drainAndClose(server, settings.shutdownTimeoutMs);
        if (outcome === 'deadline') {
          server.log.error(
            'shutdown deadline (SHUTDOWN_TIMEOUT_MS) struck: closed the connections still open',
          );
        }
        process.exit(outcome === 'drained' ? 0 : 1);
      } catch (error) {
        server.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    await server.listen({ host: settings.host, port: settings.port });
    // With workers the primary holds METRICS_PORT, serving all workers' metrics summed.
    if (!cluster.isWorker && settings.metrics.enabled && settings.metrics.port) {
      await scrapeListener(settings, scrape, out.line);
    }
    for (const app of apps) {
      const prefix = single ? '' : `/${app.definition.name}`;
      server.log.info(
        `${app.definition.name}: docs at http://${settings.host}:${settings.port}${prefix}/docs`,
      );
    }
    // Runs until a signal closes the server.
    return new Promise<number>(() => {});
  },
});

/** METRICS_PORT's listener, said out loud: it answers without a credential. */
async function scrapeListener(
  settings: Settings,
  read: () => Promise<string>,
  log: (line: string) => void,
): Promise<void> {
  const { host, port } = settings.metrics;
  await listenForScrapes(host, port!, read);
  log(`metrics at http://${host}:${port}/metrics (no credential: keep METRICS_HOST private)`);
}
