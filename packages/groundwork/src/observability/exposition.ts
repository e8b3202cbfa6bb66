import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { Metric, Registry } from 'prom-client';
import { METRICS } from './metrics.ts';

/** Prometheus's text format, version 0.0.4 (prom-client's default). */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

let registry: Promise<Registry> | undefined;

/**
 * The process's registry, made at the first scrape: prom-client is loaded then, not at start. Node's process
 * metrics (CPU, memory, event-loop lag, GC) are collected from then on; CPU and memory are totals since the
 * process started either way.
 */
function processRegistry(): Promise<Registry> {
  registry ??= import('prom-client').then(({ Registry, collectDefaultMetrics }) => {
    const made = new Registry();
    for (const metric of METRICS) made.registerMetric(metric as unknown as Metric);
    collectDefaultMetrics({ register: made });
    return made;
  });
  return registry;
}

const ASK = 'groundwork:metrics-ask';
const ANSWER = 'groundwork:metrics-answer';
/** A primary that has not answered by then is stuck; the scrape fails rather than hangs. */
const ASK_TIMEOUT_MS = 5_000;

interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

let asked = 0;
const waiting = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();

/**
 * The scrape: this process's metrics, or in a worker of `serve --workers N` every worker's, summed by the
 * primary (prom-client's cluster aggregator), so one scrape of the shared port sees the whole server.
 */
export function scrape(): Promise<string> {
  if (!cluster.isWorker || !process.send) return processRegistry().then((made) => made.metrics());
  const id = ++asked;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the primary process did not answer for the workers’ metrics'));
    }, ASK_TIMEOUT_MS);
    waiting.set(id, {
      resolve: (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    process.send!({ type: ASK, id });
  });
}

/** In a worker: answer the primary's aggregator with this process's registry, and hear its answers to scrape(). */
export async function joinClusterMetrics(): Promise<void> {
  const [{ AggregatorRegistry }, made] = await Promise.all([import('prom-client'), processRegistry()]);
  AggregatorRegistry.setRegistries([made]);
  // Constructing one is what installs the worker's listener for the primary's requests.
  new AggregatorRegistry();
  process.on('message', (message: Answer) => {
    if (message?.type !== ANSWER) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) pending?.reject(new Error(message.error));
    else pending?.resolve(message.text ?? '');
  });
}

/** In the primary: sums its workers' metrics for any of them that is scraped; returns the aggregate scrape. */
export async function aggregateWorkers(): Promise<() => Promise<string>> {
  const { AggregatorRegistry } = await import('prom-client');
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text }),
      (error: Error) => worker.send({ type: ANSWER, id: message.id, error: error.message }),
    );
  });
  return () => aggregator.clusterMetrics();
}

/**
 * METRICS_PORT: `GET /metrics` without a credential, on its own listener bound to METRICS_HOST (loopback by
 * default), for a scraper on a private network; anything else there is 404.
 */
export async function listenForScrapes(
  host: string,
  port: number,
  read: () => Promise<string>,
): Promise<Server> {
  // Not `import ... from 'node:http'`: Node's ES module view of node:http reads every export, and three of
  // them (WebSocket, CloseEvent, MessageEvent) load its bundled undici, tens of ms at every start.
  const { createServer } = process.getBuiltinModule('node:http');
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?', 1)[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: scrape GET /metrics\n');
      return;
    }
    read().then(
      (text) => response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
      (error: Error) => response.writeHead(503, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  // It serves the process while the process runs for other reasons; it never keeps one from exiting.
  server.unref();
  return server;
}
