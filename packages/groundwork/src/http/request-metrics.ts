import type { ServerResponse } from 'node:http';
import { httpRequestDuration, httpRequestsInFlight, rateLimitRefusals } from '../observability/metrics.ts';
import type { AppServer } from './app-server.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The route label of a request no route matched: its path would be unbounded. */
const UNMATCHED = 'unmatched';

type Observe = (seconds: number) => void;
type InFlight = ReturnType<typeof httpRequestsInFlight.labels>;

const APP = Symbol('groundwork app of this response');
type Tracked = ServerResponse & { [APP]?: InFlight };

/** Runs once per response, however it ends (a client gone mid-response included): never leaks a count. */
function leaveFlight(this: Tracked): void {
  this[APP]?.dec();
}

/**
 * Every request's duration by app, route template, method and status class, the requests in flight, and
 * rate-limit refusals.
 * `appOf` names the app a route template belongs to. Label sets are looked up once and kept, so a request
 * pays a map lookup, not prom-client's label hashing.
 */
export function measureRequests(server: AppServer, appOf: (route: string | undefined) => string): void {
  const inFlight = new Map<string, InFlight>();
  const durations = new Map<string, Observe>();
  server.addHook('onRequest', (request, reply, done) => {
    const app = appOf(request.routeOptions.url);
    let gauge = inFlight.get(app);
    if (!gauge) {
      gauge = httpRequestsInFlight.labels({ app });
      inFlight.set(app, gauge);
    }
    gauge.inc();
    const raw = reply.raw as Tracked;
    raw[APP] = gauge;
    raw.once('close', leaveFlight);
    done();
  });
  server.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const method = METHODS.has(request.method) ? request.method : 'OTHER';
    const statusClass = `${Math.floor(reply.statusCode / 100)}xx`;
    const key = `${route} ${method} ${statusClass}`;
    let observe = durations.get(key);
    if (!observe) {
      const child = httpRequestDuration.labels({
        app: appOf(request.routeOptions.url),
        route,
        method,
        status_class: statusClass,
      });
      observe = (seconds) => child.observe(seconds);
      durations.set(key, observe);
    }
    observe(reply.elapsedTime / 1000);
    // Every limiter answers 429, the plugin's and the foundation's own alike.
    if (reply.statusCode === 429) rateLimitRefusals.inc({ app: appOf(request.routeOptions.url), route });
    done();
  });
}
