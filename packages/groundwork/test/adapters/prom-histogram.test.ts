/**
 * Pins src/adapters/prom-histogram.ts to the installed prom-client: the same observations through prom-client's
 * own Histogram and through FastHistogram must scrape as the same text and JSON, and two processes' JSON must
 * sum the same in the cluster aggregator. A prom-client upgrade that changes its export fails here.
 */
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../src/adapters/prom-histogram.ts';

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
  const reference = new Histogram({
    name: 'h_seconds',
    help: 'a histogram',
    labelNames: ['app', 'route'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  const fast = new FastHistogram<'app' | 'route'>({
    name: 'h_seconds',
    help: 'a histogram',
    buckets: BUCKETS,
    registers: [ours],
  });
  for (const [labels, value] of OBSERVATIONS) {
    reference.observe(labels, value);
    fast.series(labels).observe(value);
  }
  return { theirs, ours, fast };
}

describe('FastHistogram against prom-client 15 (pinned)', () => {
  it('scrapes as the same text and JSON as prom-client’s Histogram', async () => {
    const { theirs, ours } = both();
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_seconds_bucket{le="0.01",app="a",route="/x"} 2');
    expect(text).toContain('h_seconds_bucket{le="+Inf",app="a",route="/x"} 4');
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('sums across processes in the cluster aggregator as prom-client’s does', async () => {
    const { theirs, ours } = both();
    const summed = async (registry: Registry) =>
      AggregatorRegistry.aggregate([
        await registry.getMetricsAsJSON(),
        await registry.getMetricsAsJSON(),
      ]).metrics();
    const text = await summed(ours);
    expect(text).toBe(await summed(theirs));
    expect(text).toContain('h_seconds_count{app="a",route="/x"} 8');
  });

  it('keeps one series per label set and resets to zero', async () => {
    const { ours, fast } = both();
    expect(fast.series({ app: 'a', route: '/x' })).toBe(fast.series({ app: 'a', route: '/x' }));
    fast.reset();
    expect(await ours.metrics()).toContain('h_seconds_count{app="a",route="/x"} 0');
  });
});
