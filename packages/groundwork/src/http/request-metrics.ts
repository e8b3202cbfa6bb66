import type { ServerResponse } from 'node:http';
import type { HistogramSeries } from '../adapters/prom-metrics.ts';
import { httpRequestDuration, inFlightOf, rateLimitRefusals } from '../observability/metrics.ts';
import type { AppServer } from './app-server.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The route label of a request no route matched: its path would be unbounded. */
const UNMATCHED = 'unmatched';

const IN_FLIGHT = Symbol('groundwork in-flight count of this response');
type Tracked = ServerResponse & { [IN_FLIGHT]?: { count: number } };

/** Runs once per response, however it ends (a client gone mid-response included): never leaks a count. */
function leaveFlight(this: Tracked): void {
  this[IN_FLIGHT]!.count--;
}

/**
 * Every request's duration by app, route template, method and status class, the requests in flight, and
 * rate-limit refusals. `appOf` names the app a route template belongs to. A label set is looked up once per
 * route and outcome and kept, so a request pays two map lookups and a few additions.
 */
export function measureRequests(server: AppServer, appOf: (route: string | undefined) => string): void {
  const durations = new Map<string, HistogramSeries>();
  server.addHook('onRequest', (request, reply, done) => {
    const counter = inFlightOf(appOf(request.routeOptions.url));
    counter.count++;
    const raw = reply.raw as Tracked;
    raw[IN_FLIGHT] = counter;
    raw.on('close', leaveFlight);
    done();
  });
  server.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const method = METHODS.has(request.method) ? request.method : 'OTHER';
    const status = reply.statusCode;
    const key = `${route} ${method} ${status}`;
    let series = durations.get(key);
    if (!series) {
      series = httpRequestDuration.series({
        app: appOf(request.routeOptions.url),
        route,
        method,
        status_class: `${Math.floor(status / 100)}xx`,
      });
      durations.set(key, series);
    }
    series.observe(reply.elapsedTime / 1000);
    // Every limiter answers 429, the plugin's and the foundation's own alike.
    if (status === 429) rateLimitRefusals.inc({ app: appOf(request.routeOptions.url), route });
    done();
  });
}
