/**
 * The metrics a `worker` process serves for its workers: every worker's
 * series, labelled `worker="<slot>"`, in one exposition.
 *
 * Why not prom-client's sum across workers: a sum hides which worker a gauge
 * came from (two workers' `store_up` summed to 1 reads as "one store down"
 * when one worker simply had not written yet), a worker that misses a scrape
 * silently drops out of the sum, and a restarted worker starts its counters
 * at zero, so the summed counters went backwards. Here:
 *
 * - each series carries its worker's slot, which a restarted worker keeps,
 *   so Prometheus sees one continuous series per slot (dashboards `sum` them);
 * - counters and histograms of a slot never go backwards: what earlier
 *   incarnations of the slot counted is remembered and added to the current
 *   incarnation's counts (a new incarnation is told by its id, and a series
 *   that shrinks within one incarnation is taken as a reset, too);
 * - gauges come only from the incarnation answering now: a dead worker's
 *   sessions or store state are not current facts;
 * - `playhouse_worker_up{worker}` is 1 for a worker that answered this
 *   scrape and 0 for one that did not; a silent worker's counters stay at
 *   their last known totals and its gauges are left out.
 *
 * Counts a worker made between its last scrape and its death are lost, as
 * they would be with Prometheus scraping the worker itself.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';

/** One sample of a metric family, as prom-client's getMetricsAsJSON() gives it. */
export interface MetricSample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** Histograms and summaries: which series (`_bucket`, `_sum`, `_count`) the sample belongs to. */
  readonly metricName?: string;
}

/** One metric family of a worker's registry, as getMetricsAsJSON() gives it. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  /** prom-client's type: 'counter', 'gauge', 'histogram' or 'summary'. */
  readonly type: string;
  readonly values: readonly MetricSample[];
}

/** What one worker gave a scrape: its metrics and which incarnation of its slot answered, or nothing. */
export type WorkerScrape =
  | { readonly slot: string; readonly answered: true; readonly incarnation: string; readonly families: readonly MetricFamily[] }
  | { readonly slot: string; readonly answered: false };

/** The label that names the worker (its slot) on every merged series. */
export const WORKER_LABEL = 'worker';
export const WORKER_UP = 'playhouse_worker_up';

type FamilyHeader = Omit<MetricFamily, 'values'>;

/** A cumulative series' value and where it belongs. */
interface SeriesValue {
  readonly family: FamilyHeader;
  readonly sample: MetricSample;
}

/** What the merger remembers of one slot between scrapes. */
interface SlotHistory {
  incarnation: string | undefined;
  /** The current incarnation's cumulative series as last seen, by series key. */
  latest: Map<string, SeriesValue>;
  /** What the slot's earlier incarnations counted, by series key. */
  readonly retired: Map<string, SeriesValue>;
}

export class MergedWorkerMetrics {
  private readonly slots = new Map<string, SlotHistory>();
  private scraping: Promise<Registry> | undefined;

  /**
   * Asks every worker (through `scrapeWorkers`) and merges their answers. Requests that arrive while a
   * scrape is under way share it: answers merged out of order would make a counter look reset.
   */
  scrape(scrapeWorkers: () => Promise<readonly WorkerScrape[]>): Promise<Registry> {
    this.scraping ??= scrapeWorkers()
      .then((scrapes) => this.merge(scrapes))
      .finally(() => (this.scraping = undefined));
    return this.scraping;
  }

  /** Takes one scrape of every worker, newer than the last one merged, and returns the registry to serve for it. */
  merge(scrapes: readonly WorkerScrape[]): Registry {
    const output = new FamilyCollector();
    output.add({ name: WORKER_UP, help: 'Whether the worker in this slot answered the last scrape (1) or not (0).', type: 'gauge' }, []);
    for (const scrape of scrapes) {
      output.add(output.header(WORKER_UP), [{ value: scrape.answered ? 1 : 0, labels: { [WORKER_LABEL]: scrape.slot } }]);
      const history = this.historyOf(scrape.slot);
      if (scrape.answered) this.record(history, scrape.incarnation, scrape.families);
      // Gauges (and a summary's quantiles) as the answering incarnation has them now.
      for (const family of scrape.answered ? scrape.families : []) {
        output.add(family, family.values.filter((sample) => !isCumulative(family, sample)).map((sample) => labelled(sample, scrape.slot)));
      }
      // Counters and histograms with every incarnation's counts, also while the worker is silent.
      for (const total of totals(history).values()) output.add(total.family, [labelled(total.sample, scrape.slot)]);
    }
    return AggregatorRegistry.aggregate([output.families()]);
  }

  private historyOf(slot: string): SlotHistory {
    let history = this.slots.get(slot);
    if (!history) this.slots.set(slot, (history = { incarnation: undefined, latest: new Map(), retired: new Map() }));
    return history;
  }

  /** Remembers the cumulative series of `incarnation`, retiring what an earlier incarnation (or a reset) counted. */
  private record(history: SlotHistory, incarnation: string, families: readonly MetricFamily[]): void {
    if (history.incarnation !== incarnation) {
      for (const [key, previous] of history.latest) retire(history, key, previous);
      history.latest = new Map();
      history.incarnation = incarnation;
    }
    for (const family of families) {
      const header: FamilyHeader = { name: family.name, help: family.help, type: family.type };
      for (const sample of family.values) {
        if (!isCumulative(family, sample)) continue;
        const key = seriesKey(family.name, sample);
        const previous = history.latest.get(key);
        // A series that shrank was reset (a restart we were not told of): keep what it had counted.
        if (previous && sample.value < previous.sample.value) retire(history, key, previous);
        history.latest.set(key, { family: header, sample });
      }
    }
  }
}

/** Adds `previous` to what the slot's earlier incarnations counted in that series. */
function retire(history: SlotHistory, key: string, previous: SeriesValue): void {
  const earlier = history.retired.get(key)?.sample.value ?? 0;
  history.retired.set(key, { family: previous.family, sample: { ...previous.sample, value: earlier + previous.sample.value } });
}

/** Every cumulative series of the slot with its total over all incarnations (the current one's last values included). */
function totals(history: SlotHistory): Map<string, SeriesValue> {
  const all = new Map(history.retired);
  for (const [key, current] of history.latest) {
    const earlier = all.get(key)?.sample.value ?? 0;
    all.set(key, { family: current.family, sample: { ...current.sample, value: earlier + current.sample.value } });
  }
  return all;
}

function labelled(sample: MetricSample, slot: string): MetricSample {
  return { value: sample.value, labels: { ...sample.labels, [WORKER_LABEL]: slot }, ...(sample.metricName !== undefined ? { metricName: sample.metricName } : {}) };
}

/** Counters, histograms (buckets, sum, count) and a summary's sum and count only grow; gauges and quantiles do not. */
function isCumulative(family: FamilyHeader, sample: MetricSample): boolean {
  if (family.type === 'counter' || family.type === 'histogram') return true;
  if (family.type === 'summary') return sample.metricName === `${family.name}_sum` || sample.metricName === `${family.name}_count`;
  return false;
}

function seriesKey(family: string, sample: MetricSample): string {
  const labels = Object.keys(sample.labels)
    .sort()
    .map((name) => `${name}=${String(sample.labels[name])}`)
    .join(',');
  return `${family}|${sample.metricName ?? ''}|${labels}`;
}

/** Merged families in the order first seen, each with the samples of every worker. */
class FamilyCollector {
  private readonly byName = new Map<string, { header: FamilyHeader; values: MetricSample[] }>();

  header(name: string): FamilyHeader {
    const found = this.byName.get(name);
    if (!found) throw new Error(`no family ${name}`);
    return found.header;
  }

  add(family: FamilyHeader, samples: readonly MetricSample[]): void {
    let entry = this.byName.get(family.name);
    if (!entry) this.byName.set(family.name, (entry = { header: { name: family.name, help: family.help, type: family.type }, values: [] }));
    entry.values.push(...samples);
  }

  /** In getMetricsAsJSON()'s shape; every sample's labels are unique (each names its worker), so aggregating only gathers. */
  families(): object[] {
    return [...this.byName.values()].map(({ header, values }) => ({ ...header, aggregator: 'sum', values }));
  }
}

/** Reads a worker's getMetricsAsJSON() answer, keeping only what has the expected shape (it crossed a process boundary). */
export function metricFamilies(snapshot: unknown): MetricFamily[] {
  if (!Array.isArray(snapshot)) return [];
  const families: MetricFamily[] = [];
  for (const entry of snapshot as unknown[]) {
    if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.type !== 'string' || !Array.isArray(entry.values)) continue;
    const values: MetricSample[] = [];
    for (const value of entry.values as unknown[]) {
      if (!isRecord(value) || typeof value.value !== 'number' || !isRecord(value.labels)) continue;
      const labels: Record<string, string | number> = {};
      for (const [name, label] of Object.entries(value.labels)) if (typeof label === 'string' || typeof label === 'number') labels[name] = label;
      values.push({ value: value.value, labels, ...(typeof value.metricName === 'string' ? { metricName: value.metricName } : {}) });
    }
    families.push({ name: entry.name, help: typeof entry.help === 'string' ? entry.help : entry.name, type: entry.type, values });
  }
  return families;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
