/**
 * Prometheus metrics kept as plain numbers, exported in prom-client's own metric shape (15.1: `get()` answering
 * `{ name, help, type, values, aggregator }`, each value `{ labels, value, metricName? }`, a histogram's buckets
 * with `le` first and `exemplar: null`), so a prom-client Registry they are registered with writes their text
 * and JSON, and its cluster aggregator sums them, as for its own.
 *
 * Why not prom-client's classes: they validate and hash the labels on every observation, even through
 * `labels()`, a cost paid per request and per statement; and importing prom-client is a noticeable part of a
 * start, so it is loaded only for the first scrape (observability/exposition.ts). A series here is looked up
 * once and then changed with a few additions. test/adapters/prom-metrics.test.ts holds each beside
 * prom-client's own.
 */

/** A value in prom-client's export. */
export interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  exemplar?: null;
}

/** What a prom-client Registry reads from a metric it did not make (`registerMetric`). */
export interface ExportedMetric {
  readonly name: string;
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }>;
}

type Labels<Label extends string> = Readonly<Record<Label, string>>;

/** Series by label values, made on first use. */
class SeriesMap<Label extends string, Series> {
  readonly #series = new Map<string, { labels: Labels<Label>; series: Series }>();
  readonly #make: () => Series;

  constructor(make: () => Series) {
    this.#make = make;
  }

  get(labels: Labels<Label>): Series {
    const key = JSON.stringify(labels);
    let entry = this.#series.get(key);
    if (!entry) {
      entry = { labels, series: this.#make() };
      this.#series.set(key, entry);
    }
    return entry.series;
  }

  entries(): IterableIterator<{ labels: Labels<Label>; series: Series }> {
    return this.#series.values();
  }
}

abstract class PlainMetric implements ExportedMetric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: string;

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  protected abstract values(): MetricValue[];

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: 'sum' as const,
    };
  }
}

export class PlainCounter<Label extends string> extends PlainMetric {
  readonly type = 'counter';
  readonly #series = new SeriesMap<Label, { value: number }>(() => ({ value: 0 }));

  /** The counter of these label values: keep it and add to its `value`. */
  series(labels: Labels<Label>): { value: number } {
    return this.#series.get(labels);
  }

  inc(labels: Labels<Label>, by = 1): void {
    this.#series.get(labels).value += by;
  }

  protected values(): MetricValue[] {
    return [...this.#series.entries()].map(({ labels, series }) => ({
      value: series.value,
      labels: { ...labels },
    }));
  }
}

/** A gauge whose values are read when scraped. */
export class PlainGauge extends PlainMetric {
  readonly type = 'gauge';
  readonly #read: () => { labels: Record<string, string>; value: number }[];

  constructor(name: string, help: string, read: () => { labels: Record<string, string>; value: number }[]) {
    super(name, help);
    this.#read = read;
  }

  protected values(): MetricValue[] {
    return this.#read().map(({ labels, value }) => ({ value, labels: { ...labels } }));
  }
}

export class PlainHistogram<Label extends string> extends PlainMetric {
  readonly type = 'histogram';
  readonly #bounds: readonly number[];
  readonly #series: SeriesMap<Label, HistogramSeries>;

  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    const bounds = [...buckets].sort((a, b) => a - b);
    this.#bounds = bounds;
    this.#series = new SeriesMap(() => new HistogramSeries(bounds));
  }

  /** The series of these label values: keep it and observe on it. */
  series(labels: Labels<Label>): HistogramSeries {
    return this.#series.get(labels);
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, series } of this.#series.entries()) {
      let cumulative = 0;
      this.#bounds.forEach((le, index) => {
        cumulative += series.counts[index]!;
        values.push({ value: cumulative, metricName: bucket, exemplar: null, labels: { le, ...labels } });
      });
      values.push(
        { value: series.count, metricName: bucket, exemplar: null, labels: { le: '+Inf', ...labels } },
        { value: series.sum, metricName: `${this.name}_sum`, labels: { ...labels } },
        { value: series.count, metricName: `${this.name}_count`, labels: { ...labels } },
      );
    }
    return values;
  }
}

/** One label set's buckets (each counting the values up to its bound and above the one before), sum and count. */
export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    if (index < bounds.length) this.counts[index]!++;
    this.sum += value;
    this.count++;
  }
}
