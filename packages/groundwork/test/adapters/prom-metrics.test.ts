/**
 * Pins src/adapters/prom-metrics.ts to the installed prom-client: the same observations through prom-client's
 * own Histogram, Counter and Gauge and through the plain ones must scrape as the same text and JSON, and two
 * processes' JSON must sum the same in the cluster aggregator. A prom-client upgrade that changes its export
 * fails here.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PlainCounter, PlainGauge, PlainHistogram } from '../../src/adapters/prom-metrics.ts';

const BUCKETS = [0.01, 0.1, 1];
const OBSERVATIONS: [Record<'app' | 'route', string>, number][] = [
  [{ app: 'a', route: '/x' }, 0.005],
  [{ app: 'a', route: '/x' }, 0.01],
  [{ app: 'a', route: '/x' }, 0.5],
  [{ app: 'a', route: '/x' }, 7],
  [{ app: 'b', route: '/y/:id' }, 0.05],
];

function both() {
  const theirs = new Registry();
  const ours = new Registry();
  const histogram = new Histogram({
    name: 'h_seconds',
    help: 'a histogram',
    labelNames: ['app', 'route'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  const counter = new Counter({
    name: 'c_total',
    help: 'a counter',
    labelNames: ['app'],
    registers: [theirs],
  });
  const gauge = new Gauge({ name: 'g', help: 'a gauge', labelNames: ['app', 'pool'], registers: [theirs] });
  const plainHistogram = new PlainHistogram<'app' | 'route'>('h_seconds', 'a histogram', BUCKETS);
  const plainCounter = new PlainCounter<'app'>('c_total', 'a counter');
  const plainGauge = new PlainGauge('g', 'a gauge', () => [
    { labels: { app: 'a', pool: 'primary' }, value: 3 },
    { labels: { app: 'a', pool: 'replica-1' }, value: 0 },
  ]);
  for (const metric of [plainHistogram, plainCounter, plainGauge])
    ours.registerMetric(metric as unknown as Metric);
  for (const [labels, value] of OBSERVATIONS) {
    histogram.observe(labels, value);
    plainHistogram.series(labels).observe(value);
    counter.inc({ app: labels.app });
    plainCounter.inc({ app: labels.app });
  }
  counter.inc({ app: 'b' }, 4);
  plainCounter.series({ app: 'b' }).value += 4;
  gauge.set({ app: 'a', pool: 'primary' }, 3);
  gauge.set({ app: 'a', pool: 'replica-1' }, 0);
  return { theirs, ours, plainHistogram };
}

describe('plain metrics against prom-client 15 (pinned)', () => {
  it('scrape as the same text and JSON as prom-client’s Histogram, Counter and Gauge', async () => {
    const { theirs, ours } = both();
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_seconds_bucket{le="0.01",app="a",route="/x"} 2');
    expect(text).toContain('h_seconds_bucket{le="+Inf",app="a",route="/x"} 4');
    expect(text).toContain('c_total{app="b"} 5');
    expect(text).toContain('g{app="a",pool="primary"} 3');
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('sum across processes in the cluster aggregator as prom-client’s do', async () => {
    const { theirs, ours } = both();
    const summed = async (registry: Registry) =>
      AggregatorRegistry.aggregate([
        await registry.getMetricsAsJSON(),
        await registry.getMetricsAsJSON(),
      ]).metrics();
    const text = await summed(ours);
    expect(text).toBe(await summed(theirs));
    expect(text).toContain('h_seconds_count{app="a",route="/x"} 8');
    expect(text).toContain('c_total{app="b"} 10');
  });

  it('keep one series per label set', () => {
    const { plainHistogram } = both();
    expect(plainHistogram.series({ app: 'a', route: '/x' })).toBe(
      plainHistogram.series({ app: 'a', route: '/x' }),
    );
  });
});
