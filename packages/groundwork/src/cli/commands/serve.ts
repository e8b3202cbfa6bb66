import { loadSettings } from '../../config.ts';
import { buildServer } from '../../http/server.ts';
import { type RunningApp, startApp } from '../../runtime.ts';
import { findRoot, resolveAllApps, resolveApp } from '../apps.ts';
import type { Command } from '../command.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve one app at / or, with no name, every app under /<app>/ with an index at /',
  usage: 'serve [app] [--migrate]',
  options: { migrate: { type: 'boolean' } },
  async run({ values, positionals }, out) {
    const single = positionals[0];
    const definitions = single ? [await resolveApp(single)] : await resolveAllApps();
    const settings = loadSettings({ appName: single ?? 'groundwork', appDir: findRoot() });
    const log = (line: string) => out.line(line);
    const apps: RunningApp<any>[] = [];
    try {
      for (const definition of definitions) {
        apps.push(
          await startApp(definition, {
            sharedServer: !single,
            migrate: values.migrate ? true : undefined,
            log,
          }),
        );
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
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      server.log.info({ signal }, 'shutting down: finishing in-flight requests');
      server.close().then(
        () => process.exit(0),
        (error) => {
          server.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    await server.listen({ host: settings.host, port: settings.port });
    for (const app of apps) {
      const prefix = single ? '' : `/${app.definition.name}`;
      server.log.info(`${app.definition.name}: http://${settings.host}:${settings.port}${prefix}/docs`);
    }
    // Keep running until a signal arrives.
    return new Promise<number>(() => {});
  },
};
