import type { AppServer } from 'groundwork-pg';

/** The foundation's own routes, outside the app's: docs and the liveness and readiness probes. */
const FOUNDATION_ROUTE = /^\/(docs\b|health\/(live|ready)$)/;

/**
 * `METHOD /path` of every app route the server registered (HEAD copies of GETs left out), read from Fastify's
 * route tree, so a test listing the routes by hand fails when a new one appears.
 */
export function registeredRoutes(server: AppServer): string[] {
  const routes: string[] = [];
  const path: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    // `│   └── /:id (DELETE)`: four characters of indent per level, then a segment and its methods.
    const node = /^([│ ]*)[├└]── (\S+)(?: \((.+)\))?$/.exec(line);
    if (!node) continue;
    path.length = node[1]!.length / 4;
    path.push(node[2]!);
    const url = path.join('');
    if (FOUNDATION_ROUTE.test(url)) continue;
    for (const method of node[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(`${method} ${url}`);
  }
  return routes;
}
