import { MigrationError } from '../../migrations/runner.ts';
import type { RunningApp } from '../../runtime.ts';
import { findRoot } from '../../workspace.ts';
import { enclosingAppDir, resolveAllApps, resolveApp } from '../apps.ts';
import { defineCommand } from '../command.ts';

export const serveCommand = defineCommand({
  name: 'serve',
  summary:
    'serve one app at / (named, or the app folder you are in); from the repository root, every app under /<app>/ with an index at /',
  usage: 'serve [app] [--migrate]',
  options: {
    migrate: {
      type: 'boolean',
      description: 'upgrade to head before serving (MIGRATE_ON_START=true does the same)',
    },
  },
  examples: [
    'groundwork serve                  # in an app folder: that app at /; at the repository root: every app',
    'groundwork serve learnr --migrate',
    'node node_modules/groundwork-pg/bin/groundwork.js serve   # production: signals reach the server',
  ],
  async run({ values, positionals }, out) {
    const [{ loadSettings }, { buildServer, drainAndClose }, { startApp }] = await Promise.all([
      import('../../config.ts'),
      import('../../http/server.ts'),
      import('../../runtime.ts'),
    ]);
    const single = positionals[0] || enclosingAppDir() ? await resolveApp(positionals[0]) : undefined;
    const definitions = single ? [single] : await resolveAllApps();
    const settings = loadSettings({
      appName: single?.name ?? 'groundwork',
      appDir: single?.dir ?? findRoot(),
      defaults: single?.defaults,
    });
    const apps: RunningApp[] = [];
    try {
      for (const definition of definitions) {
        const options = { sharedServer: !single, migrate: values.migrate ? true : undefined, log: out.line };
        try {
          apps.push(await startApp(definition, options));
        } catch (error) {
          // One app's failed migration must not take the others down: serve it unmigrated, so its
          // readiness answers 503 "pending migrations" while the error is in the log.
          if (single || !(error instanceof MigrationError)) throw error;
          out.line(`${definition.name}: migration failed, serving it as not ready: ${error.message}`);
          apps.push(await startApp(definition, { ...options, migrate: false }));
        }
      }
    } catch (error) {
      await Promise.all(apps.map((a) => a.handle.close()));
      throw error;
    }
    const server = await buildServer(apps, {
      logLevel: settings.logLevel,
      mount: single ? 'root' : 'prefixed',
    });
    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      server.log.info(
        { signal, timeoutMs: settings.shutdownTimeoutMs },
        'shutting down: finishing in-flight requests',
      );
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
