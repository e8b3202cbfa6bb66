import type { Metric, Registry } from 'prom-client';

/**
 * A Prometheus histogram whose series are looked up once and then observed with a few additions. prom-client's
 * own Histogram validates and hashes its labels on every observation, even through `labels()`, a cost paid per
 * request and per statement. This one hands prom-client the same export it makes (15.1: `get()` answering
 * `{ name, help, type, values, aggregator }`, each value `{ labels, value, metricName }` with `le` first, buckets with `exemplar: null`), so
 * the registry's text, its JSON and the cluster aggregator's sum treat it as one of theirs;
 * test/adapters/prom-histogram.test.ts holds the two side by side.
 */
export class FastHistogram<Label extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries<Label>>();

  constructor(options: {
    name: string;
    help: string;
    buckets: readonly number[];
    registers: Registry[];
  }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, made on first use; keep it and observe on it. */
  series(labels: Readonly<Record<Label, string>>): HistogramSeries<Label> {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = new HistogramSeries(labels, this.#bounds);
      this.#series.set(key, series);
    }
    return series;
  }

  reset(): void {
    for (const series of this.#series.values()) series.reset();
  }

  async get() {
    const values: {
      labels: Record<string, string | number>;
      value: number;
      metricName: string;
      exemplar?: null;
    }[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, index) => {
        cumulative += series.counts[index]!;
        values.push({
          labels: { le, ...series.labels },
          value: cumulative,
          metricName: bucket,
          exemplar: null,
        });
      });
      values.push(
        { labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucket, exemplar: null },
        { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
        { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** One label set's buckets (each counting the values up to its bound and above the one before), sum and count. */
export class HistogramSeries<Label extends string> {
  readonly labels: Readonly<Record<Label, string>>;
  readonly counts: number[];
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(labels: Readonly<Record<Label, string>>, bounds: readonly number[]) {
    this.labels = labels;
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

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
